using Microsoft.Extensions.Options;

namespace Bus;

/// <summary>
/// Checks the options, the whole topology and every consumer's constructor dependencies at start, listing every
/// problem at once.
/// </summary>
internal sealed class BusOptionsValidator(IServiceProvider services) : IValidateOptions<BusOptions>
{
    public ValidateOptionsResult Validate(string? name, BusOptions options)
    {
        var plan = TopologyPlan.Create(options);
        var errors = plan.Errors;
        ConsumerDependencyCheck.Check(plan.Consumers, services, errors);
        if (services.GetService(typeof(IMessageTransport)) is IMessageTransport transport)
        {
            var broker = transport as IBrokerTransport;
            foreach (var (queue, queueOptions) in plan.Queues)
            {
                TransportFeatureCheck.Check(transport, queue, queueOptions, errors);
                broker?.CheckQueue(queue, queueOptions, errors);
            }

            if (broker is not null)
            {
                foreach (var (exchange, strategy) in plan.Exchanges)
                {
                    broker.CheckExchange(exchange, strategy, errors);
                }
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
