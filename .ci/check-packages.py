#!/usr/bin/env python3
"""Checks what .ci/run packed, before anything uses it: each package carries both targets, its README and icon,
repository metadata and a symbols package, and never lifts a user's Microsoft.Extensions.* above the framework
they target. Usage: check-packages.py FOLDER VERSION. Prints each package's files; exits 1 listing every problem."""
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

PACKAGES = ["Bus", "Bus.Testing", "Bus.HealthChecks", "Bus.RabbitMQ"]
TARGETS = {"net8.0": 8, "net10.0": 10}
# Microsoft.Extensions.* packages that are not part of the shared framework and version on their own (dotnet/extensions);
# they bring no framework assemblies into a net8.0 app, so their major version is not the framework's.
OWN_VERSIONING = {"Microsoft.Extensions.TimeProvider.Testing"}

folder, version = Path(sys.argv[1]), sys.argv[2]
problems = []


def check(condition, message):
    if not condition:
        problems.append(message)


for package_id in PACKAGES:
    nupkg = folder / f"{package_id}.{version}.nupkg"
    snupkg = folder / f"{package_id}.{version}.snupkg"
    if not nupkg.exists():
        problems.append(f"{nupkg.name}: missing")
        continue
    with zipfile.ZipFile(nupkg) as z:
        names = set(z.namelist())
        print(f"{nupkg.name}: {', '.join(sorted(n for n in names if not n.startswith(('_rels/', 'package/', '['))))}")
        for tfm in TARGETS:
            for ext in ("dll", "xml"):
                check(f"lib/{tfm}/{package_id}.{ext}" in names, f"{nupkg.name}: no lib/{tfm}/{package_id}.{ext}")
        check("README.md" in names, f"{nupkg.name}: no README.md")
        check("icon.png" in names, f"{nupkg.name}: no icon.png")
        if "README.md" in names:
            readme = z.read("README.md").decode("utf-8")
            check(len(readme) < 8000, f"{nupkg.name}: README.md is {len(readme)} characters; a package README is short")
            check("```csharp" in readme, f"{nupkg.name}: README.md has no example")
            check("dotnet add package " + package_id in readme, f"{nupkg.name}: README.md does not say how to install")
            relative = re.findall(r"\]\((?!https?://|#|mailto:)([^)]*)\)", readme)
            check(not relative, f"{nupkg.name}: README.md has relative links, dead on a package page: {relative}")
        nuspec = ET.fromstring(z.read(f"{package_id}.nuspec"))
    ns = {"n": nuspec.tag[1:].split("}")[0]}
    meta = nuspec.find("n:metadata", ns)

    def text(tag):
        element = meta.find(f"n:{tag}", ns)
        return element.text if element is not None else None

    check(text("readme") == "README.md", f"{nupkg.name}: nuspec readme is {text('readme')}")
    check(text("icon") == "icon.png", f"{nupkg.name}: nuspec icon is {text('icon')}")
    check(bool(text("projectUrl")), f"{nupkg.name}: no projectUrl")
    check(meta.find("n:license", ns) is not None, f"{nupkg.name}: no license")
    repository = meta.find("n:repository", ns)
    check(repository is not None and repository.get("url") and repository.get("type") == "git",
          f"{nupkg.name}: no git repository url")
    check(repository is not None and repository.get("url") == text("projectUrl"),
          f"{nupkg.name}: repository and project URLs differ (both come from BusRepositoryUrl)")
    groups = {g.get("targetFramework"): g for g in meta.findall("n:dependencies/n:group", ns)}
    check(set(groups) == set(TARGETS), f"{nupkg.name}: dependency groups {sorted(groups)}, expected {sorted(TARGETS)}")
    for tfm, major in TARGETS.items():
        for dependency in groups.get(tfm, []):
            dep_id, dep_version = dependency.get("id"), dependency.get("version")
            if dep_id.startswith("Bus"):
                check(dep_version == version, f"{nupkg.name}: {tfm} depends on {dep_id} {dep_version}, not {version}")
            elif dep_id.startswith("Microsoft.Extensions.") and dep_id not in OWN_VERSIONING:
                dep_major = int(re.match(r"\[?(\d+)", dep_version).group(1))
                check(dep_major == major,
                      f"{nupkg.name}: {tfm} depends on {dep_id} {dep_version}: Microsoft.Extensions.* must be {major}.x")
    if not snupkg.exists():
        problems.append(f"{snupkg.name}: missing")
    else:
        with zipfile.ZipFile(snupkg) as z:
            for tfm in TARGETS:
                check(f"lib/{tfm}/{package_id}.pdb" in z.namelist(), f"{snupkg.name}: no lib/{tfm}/{package_id}.pdb")

this_version = [p.name for p in folder.glob(f"*.{version}.*nupkg")]
unknown = sorted(n for n in this_version if n.rsplit(f".{version}.", 1)[0] not in PACKAGES)
check(not unknown, f"packages this check does not know (add them to PACKAGES): {unknown}")

for problem in problems:
    print(f"package problem: {problem}")
sys.exit(1 if problems else 0)
