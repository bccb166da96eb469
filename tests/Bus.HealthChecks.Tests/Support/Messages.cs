namespace Bus.HealthChecks.Tests.Support;

public sealed record Job(int Id);
