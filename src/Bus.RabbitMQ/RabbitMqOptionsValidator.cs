using Microsoft.Extensions.Options;

namespace Bus.RabbitMQ;

/// <summary>Checks <see cref="RabbitMqOptions"/> once, at the start, listing every problem.</summary>
internal sealed class RabbitMqOptionsValidator : IValidateOptions<RabbitMqOptions>
{
    public ValidateOptionsResult Validate(string? name, RabbitMqOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
