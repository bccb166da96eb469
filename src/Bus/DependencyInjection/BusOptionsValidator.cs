using Microsoft.Extensions.Options;

namespace Bus;

/// <summary>Checks the options and the whole topology at start, listing every problem at once.</summary>
internal sealed class BusOptionsValidator : IValidateOptions<BusOptions>
{
    public ValidateOptionsResult Validate(string? name, BusOptions options)
    {
        var errors = TopologyPlan.Create(options).Errors;
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
