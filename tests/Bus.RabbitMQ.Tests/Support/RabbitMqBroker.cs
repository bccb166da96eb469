using System.Diagnostics.CodeAnalysis;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace Bus.RabbitMQ.Tests.Support;

/// <summary>
/// The broker the tests run against: a RabbitMQ node with the management plugin, at <c>BUS_RABBITMQ_URI</c> and
/// <c>BUS_RABBITMQ_MANAGEMENT_URI</c> (by default guest on 127.0.0.1, as <c>.ci/run</c>'s <c>start_rabbitmq</c> sets it
/// up). Every broker test starts with <see cref="RequireAsync"/>: without a broker it is skipped on a developer's
/// machine and fails in CI (<c>CI=true</c>), where a skipped broker test would prove nothing.
/// </summary>
public static class RabbitMqBroker
{
    /// <summary>How long the availability probe waits for each of the two ports.</summary>
    private static readonly TimeSpan s_probeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>The first byte of an AMQP method frame, such as the broker's answer to the protocol header.</summary>
    private const byte MethodFrame = 1;

    /// <summary>AMQP 0-9-1's protocol header, the first bytes a client sends.</summary>
    private static readonly byte[] s_protocolHeader = [(byte)'A', (byte)'M', (byte)'Q', (byte)'P', 0, 0, 9, 1];

    private static readonly Lazy<Task<string?>> s_problem = new(ProbeAsync);

    /// <summary>The AMQP URI of the broker's default vhost; <see cref="BrokerVhost"/> gives each test class its own.</summary>
    public static Uri AmqpUri { get; } =
        Read("BUS_RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672/");

    /// <summary>The management HTTP API's base URI, with the credentials in its user info.</summary>
    public static Uri ManagementUri { get; } =
        WithTrailingSlash(Read("BUS_RABBITMQ_MANAGEMENT_URI", "http://guest:guest@127.0.0.1:15672/"));

    /// <summary>
    /// A client of the management API: <see cref="ManagementUri"/> without its user info, which becomes a Basic
    /// authorization header (HttpClient ignores credentials in a URI).
    /// </summary>
    internal static HttpClient Management { get; } = CreateManagementClient();

    /// <summary>Whether the broker answers on its AMQP port and its management API; probed once per process.</summary>
    public static async Task<bool> IsAvailableAsync() => await s_problem.Value is null;

    /// <summary>
    /// Returns when the broker is available; otherwise fails the test in CI (<c>CI=true</c>) and skips it elsewhere.
    /// </summary>
    public static async Task RequireAsync()
    {
        if (await s_problem.Value is { } problem)
        {
            Unavailable(problem);
        }
    }

    /// <summary>
    /// What a test does when something it needs from the broker's machine is missing: in CI it fails, with
    /// <paramref name="problem"/>; elsewhere it is skipped with the same reason and a pointer to starting a broker.
    /// </summary>
    [DoesNotReturn]
    internal static void Unavailable(string problem)
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"{problem}: the broker is required in CI (CI=true). .ci/run starts one (start_rabbitmq); elsewhere set " +
                $"BUS_RABBITMQ_URI and BUS_RABBITMQ_MANAGEMENT_URI (now {Display(AmqpUri)} and {Display(ManagementUri)}).");
        }

        Assert.Skip($"{problem}: broker tests skipped (start one: see README, Moving to RabbitMQ)");
    }

    /// <summary>A URI as messages show it: without its user info.</summary>
    internal static string Display(Uri uri) =>
        new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty }.Uri.ToString();

    /// <summary>Null when the broker answers on both ports, else what is wrong, for the skip or failure message.</summary>
    private static async Task<string?> ProbeAsync()
    {
        if (!await AnswersAmqpAsync())
        {
            return $"RabbitMQ is not running at {Display(AmqpUri)}";
        }

        try
        {
            using var timeout = new CancellationTokenSource(s_probeTimeout);
            using var response = await Management.GetAsync(new Uri("api/overview", UriKind.Relative), timeout.Token);
            return response.IsSuccessStatusCode
                ? null
                : $"RabbitMQ's management API at {Display(ManagementUri)} answered {(int)response.StatusCode} {response.ReasonPhrase}";
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            return $"RabbitMQ's management API is not reachable at {Display(ManagementUri)}";
        }
    }

    /// <summary>
    /// Connects to the AMQP port and sends the AMQP 0-9-1 protocol header: a broker answers with a method frame
    /// (connection.start). More than a TCP connect, which a proxy or a port forward can accept with nothing behind it.
    /// </summary>
    private static async Task<bool> AnswersAmqpAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(s_probeTimeout);
            using var tcp = new TcpClient();
            var port = AmqpUri.Port > 0 ? AmqpUri.Port : AmqpUri.Scheme == "amqps" ? 5671 : 5672;
            await tcp.ConnectAsync(AmqpUri.Host, port, timeout.Token);
            if (AmqpUri.Scheme == "amqps")
            {
                return true;
            }

            var stream = tcp.GetStream();
            await stream.WriteAsync(s_protocolHeader, timeout.Token);
            var frameType = new byte[1];
            return await stream.ReadAsync(frameType, timeout.Token) == 1 && frameType[0] == MethodFrame;
        }
        catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private static HttpClient CreateManagementClient()
    {
        var credentials = ManagementUri.UserInfo.Split(':', 2);
        var client = new HttpClient
        {
            BaseAddress = new UriBuilder(ManagementUri) { UserName = string.Empty, Password = string.Empty }.Uri,
            Timeout = TimeSpan.FromSeconds(30),
        };
        if (credentials[0].Length > 0)
        {
            var user = Uri.UnescapeDataString(credentials[0]);
            var password = credentials.Length > 1 ? Uri.UnescapeDataString(credentials[1]) : string.Empty;
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
                "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }

        return client;
    }

    private static Uri Read(string variable, string fallback)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        return new Uri(string.IsNullOrWhiteSpace(value) ? fallback : value, UriKind.Absolute);
    }

    /// <summary>Relative API paths ("api/vhosts") resolve under a base URI only when its path ends with a slash.</summary>
    private static Uri WithTrailingSlash(Uri uri) =>
        uri.AbsolutePath.EndsWith('/') ? uri : new UriBuilder(uri) { Path = uri.AbsolutePath + "/" }.Uri;
}
