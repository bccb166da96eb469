using System.Net;
using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Bus.RabbitMQ.Tests.Support;

/// <summary>
/// What the tests read of the broker beside <see cref="BrokerVhost"/>'s counts: a queue's or an exchange's declaration
/// through the management API (declarations are there at once; only statistics lag), the raw messages of a queue, and
/// raw publishes, over AMQP.
/// </summary>
public static class BrokerApi
{
    /// <summary>A queue's arguments as the broker keeps them; throws when there is no such queue.</summary>
    public static async Task<IReadOnlyDictionary<string, JsonElement>> QueueArgumentsAsync(this BrokerVhost vhost, string queue)
    {
        using var document = await GetAsync($"api/queues/{Uri.EscapeDataString(vhost.Name)}/{Uri.EscapeDataString(queue)}")
            ?? throw new InvalidOperationException($"Queue '{queue}' does not exist in vhost {vhost.Name}.");
        var arguments = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.GetProperty("arguments").EnumerateObject())
        {
            arguments[property.Name] = property.Value.Clone();
        }

        return arguments;
    }

    /// <summary>An exchange's type and durability, or null when there is no such exchange.</summary>
    public static async Task<(string Type, bool Durable)?> ExchangeAsync(this BrokerVhost vhost, string exchange)
    {
        using var document = await GetAsync($"api/exchanges/{Uri.EscapeDataString(vhost.Name)}/{Uri.EscapeDataString(exchange)}");
        return document is null
            ? null
            : (document.RootElement.GetProperty("type").GetString()!, document.RootElement.GetProperty("durable").GetBoolean());
    }

    /// <summary>Whether a queue exists, from a passive declare (exact at once).</summary>
    public static async Task<bool> QueueExistsAsync(this BrokerVhost vhost, string queue)
    {
        try
        {
            await vhost.CountReadyViaAmqpAsync(queue);
            return true;
        }
        catch (OperationInterruptedException exception) when (exception.ShutdownReason?.ReplyCode == 404)
        {
            return false;
        }
    }

    /// <summary>The names of the vhost's connections whose client-provided name starts with the prefix, per the management API (which lists a connection a few seconds late).</summary>
    public static async Task<IReadOnlyList<string>> ConnectionsAsync(this BrokerVhost vhost, string prefix)
    {
        using var document = await GetAsync($"api/vhosts/{Uri.EscapeDataString(vhost.Name)}/connections?columns=name,user_provided_name")
            ?? throw new InvalidOperationException($"No vhost {vhost.Name}.");
        return [.. document.RootElement.EnumerateArray()
            .Where(c => c.TryGetProperty("user_provided_name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString()!.StartsWith(prefix, StringComparison.Ordinal))
            .Select(c => c.GetProperty("name").GetString()!)];
    }

    /// <summary>Waits until the management API lists at least <paramref name="atLeast"/> such connections, so that closing them later is immediate.</summary>
    public static Task WaitForConnectionsAsync(this BrokerVhost vhost, string prefix, int atLeast) =>
        Poll.UntilAsync(async () => (await vhost.ConnectionsAsync(prefix)).Count >= atLeast, $"{atLeast} connection(s) named '{prefix}*' listed");

    /// <summary>Takes every message of a queue without removing any (read with acks off, then given back in order by closing the channel).</summary>
    public static async Task<IReadOnlyList<BasicGetResult>> PeekAllAsync(this BrokerVhost vhost, IConnection connection, string queue)
    {
        var results = new List<BasicGetResult>();
        await using var channel = await connection.CreateChannelAsync();
        while (await channel.BasicGetAsync(queue, autoAck: false) is { } result)
        {
            results.Add(result);
        }

        await channel.CloseAsync();
        return results;
    }

    /// <summary>Publishes raw bytes to a queue, as an application that does not use the bus would, confirmed.</summary>
    public static async Task PublishRawAsync(IConnection connection, string queue, BasicProperties properties, byte[] body)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await channel.BasicPublishAsync(string.Empty, queue, mandatory: true, properties, body);
    }

    /// <summary>A header of a raw message as a string (AMQP carries strings as bytes).</summary>
    public static string? Header(this IReadOnlyBasicProperties properties, string key) =>
        properties.Headers is { } headers && headers.TryGetValue(key, out var value)
            ? value switch
            {
                byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
                null => null,
                _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
            }
            : null;

    private static async Task<JsonDocument?> GetAsync(string path)
    {
        using var response = await RabbitMqBroker.Management.GetAsync(new Uri(path, UriKind.Relative));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        return await JsonDocument.ParseAsync(body);
    }
}
