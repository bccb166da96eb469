#if !NET9_0_OR_GREATER
namespace Bus;

/// <summary>
/// .NET 8 has no <c>System.Threading.Lock</c>: there, <c>lock</c> on this plain object uses the monitor, as it did
/// before .NET 9, and every <c>private readonly Lock _lock = new();</c> compiles unchanged on both targets.
/// </summary>
internal sealed class Lock;
#endif
