using System.Globalization;
using Microsoft.Extensions.Options;

namespace Bus.HealthChecks;

/// <summary>Checks every <see cref="MessageBusHealthCheckOptions"/> value, listing each one out of range by name.</summary>
internal sealed class MessageBusHealthCheckOptionsValidator : IValidateOptions<MessageBusHealthCheckOptions>
{
    public ValidateOptionsResult Validate(string? name, MessageBusHealthCheckOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (!(options.SaturationThreshold > 0 && options.SaturationThreshold <= 1))
        {
            errors.Add(Error(name, nameof(options.SaturationThreshold), "more than 0 and at most 1", options.SaturationThreshold));
        }

        if (options.SaturationPeriod <= TimeSpan.Zero)
        {
            errors.Add(Error(name, nameof(options.SaturationPeriod), "more than zero", options.SaturationPeriod));
        }

        if (options.MaxMessageAge is { } age && age <= TimeSpan.Zero)
        {
            errors.Add(Error(name, nameof(options.MaxMessageAge), "more than zero, or null", age));
        }

        if (options.MaxDeadLetters is { } deadLetters && deadLetters < 0)
        {
            errors.Add(Error(name, nameof(options.MaxDeadLetters), "zero or more, or null", deadLetters));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static string Error(string? check, string option, string range, object value) => string.Create(
        CultureInfo.InvariantCulture,
        $"{nameof(MessageBusHealthCheckOptions)}.{option} of health check '{check}' must be {range}; it is {value}.");
}
