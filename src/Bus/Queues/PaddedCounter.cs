using System.Runtime.InteropServices;

namespace Bus;

/// <summary>A counter alone on its cache line, so that publishers counting it do not slow down workers nearby.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct PaddedCounter
{
    [FieldOffset(64)]
    public long Value;
}
