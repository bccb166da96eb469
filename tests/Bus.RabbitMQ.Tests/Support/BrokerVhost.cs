using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;

namespace Bus.RabbitMQ.Tests.Support;

/// <summary>
/// A class fixture: a fresh vhost on the broker for one test class (<c>bus-test-{class}-{guid8}</c>), made through the
/// management API and deleted, with everything in it, when the class is done; so tests never clean up queues or
/// exchanges, and classes running in parallel never see each other's. Without a broker it makes nothing and does not
/// throw: each test's <see cref="RabbitMqBroker.RequireAsync"/> skips or fails it.
/// </summary>
public sealed class BrokerVhost : IAsyncLifetime
{
    /// <summary>Every wait in the tests is bounded by this; it is a safety net, never a way to let work finish.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>How long <see cref="RestartBrokerAppAsync"/> gives the broker to stop and start again.</summary>
    private static readonly TimeSpan s_restartTimeout = TimeSpan.FromSeconds(60);

    private const int MaxClassNameLength = 32;

    private readonly Lock _lock = new();
    private readonly List<IConnection> _connections = [];
    private readonly SemaphoreSlim _inspectorLock = new(1, 1);
    private IConnection? _inspector;
    private bool _created;

    public BrokerVhost()
    {
        // xunit sets the test context's class while it makes the class's fixtures.
        var testClass = TestContext.Current.TestClass?.TestClassSimpleName ?? "tests";
        var slug = new string([.. testClass.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit)]);
        Name = $"bus-test-{slug[..Math.Min(slug.Length, MaxClassNameLength)]}-{Guid.NewGuid().ToString("N")[..8]}";
        Uri = new UriBuilder(RabbitMqBroker.AmqpUri) { Path = "/" + Uri.EscapeDataString(Name) }.Uri;
    }

    /// <summary>The vhost's name.</summary>
    public string Name { get; }

    /// <summary>The AMQP URI of the vhost: the broker's, with the vhost (URL-encoded) as its path.</summary>
    public Uri Uri { get; }

    private string EscapedName => Uri.EscapeDataString(Name);

    private string InspectorName => $"{Name}-inspector";

    public async ValueTask InitializeAsync()
    {
        if (!await RabbitMqBroker.IsAvailableAsync())
        {
            return;
        }

        await SendAsync(HttpMethod.Put, $"api/vhosts/{EscapedName}", "{}");
        _created = true;
        var user = Uri.EscapeDataString(AmqpUser());
        await SendAsync(HttpMethod.Put, $"api/permissions/{EscapedName}/{user}", """{"configure":".*","write":".*","read":".*"}""");
    }

    public async ValueTask DisposeAsync()
    {
        List<IConnection> connections;
        lock (_lock)
        {
            connections = [.. _connections];
            _connections.Clear();
        }

        if (_inspector is { } inspector)
        {
            connections.Add(inspector);
        }

        try
        {
            // Closed before the vhost goes: deleting it would only make recovering connections retry against nothing.
            // Disposing closes an open connection and stops a recovering one; a second dispose (the test's) does nothing.
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
        finally
        {
            _inspectorLock.Dispose();
            if (_created)
            {
                using var response = await RabbitMqBroker.Management.DeleteAsync(new Uri($"api/vhosts/{EscapedName}", UriKind.Relative));
                if (response.StatusCode != HttpStatusCode.NotFound)
                {
                    await EnsureSuccessAsync(response, $"DELETE api/vhosts/{EscapedName}");
                }
            }
        }
    }

    /// <summary>
    /// A connection to the vhost that recovers by itself, retrying every second (the client's default is 5 s), as the
    /// transport's would. The fixture closes it at the end of the class if the test has not.
    /// </summary>
    /// <param name="clientProvidedName">The name the broker shows for it, and <see cref="CloseConnectionsAsync"/> matches.</param>
    public async Task<IConnection> ConnectAsync(string? clientProvidedName = null)
    {
        var factory = new ConnectionFactory
        {
            Uri = Uri,
            AutomaticRecoveryEnabled = true,
            NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
            ClientProvidedName = clientProvidedName,
        };
        using var timeout = new CancellationTokenSource(Timeout);
        var connection = await factory.CreateConnectionAsync(timeout.Token);
        lock (_lock)
        {
            _connections.Add(connection);
        }

        return connection;
    }

    /// <summary>
    /// The ready messages in a queue, from a passive declare on a fresh channel: exact at once, unlike
    /// <see cref="CountMessagesAsync"/>. Throws <see cref="global::RabbitMQ.Client.Exceptions.OperationInterruptedException"/>
    /// (404) when there is no such queue.
    /// </summary>
    public async Task<uint> CountReadyViaAmqpAsync(string queue)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var inspector = await InspectorAsync(timeout.Token);
        await using var channel = await inspector.CreateChannelAsync(cancellationToken: timeout.Token);
        var declared = await channel.QueueDeclarePassiveAsync(queue, timeout.Token);
        return declared.MessageCount;
    }

    /// <summary>
    /// The messages in a queue (ready and unacknowledged) as the management API reports them. The broker refreshes
    /// these statistics every 5 s or so, so the number can be stale (0 for a queue just declared): prefer
    /// <see cref="CountReadyViaAmqpAsync"/>.
    /// </summary>
    public async Task<int> CountMessagesAsync(string queue)
    {
        using var queueInfo = await GetJsonAsync($"api/queues/{EscapedName}/{Uri.EscapeDataString(queue)}");
        return queueInfo.RootElement.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Number
            ? messages.GetInt32()
            : 0;
    }

    /// <summary>
    /// Has the broker close this vhost's connections (all, or those whose client-provided name starts with
    /// <paramref name="clientProvidedNamePrefix"/>), as a network failure would: a recovering connection reconnects.
    /// Other vhosts, and so test classes running in parallel, are not touched.
    /// </summary>
    /// <remarks>
    /// The management API lists a new connection only after a few seconds (2.5 s measured on 3.10.8, which collects
    /// them with its statistics), and no other API sees them: so this first waits, polling, until at least
    /// <paramref name="atLeast"/> matching connections are listed, and fails if they are not within
    /// <see cref="Timeout"/>. Closing nothing is never what a test means.
    /// </remarks>
    /// <returns>How many connections the broker closed.</returns>
    public async Task<int> CloseConnectionsAsync(string? clientProvidedNamePrefix = null, int atLeast = 1)
    {
        var names = await ListConnectionsAsync(clientProvidedNamePrefix);
        if (names.Count < atLeast)
        {
            using var timeout = new CancellationTokenSource(Timeout);
            using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
            try
            {
                while (names.Count < atLeast && await poll.WaitForNextTickAsync(timeout.Token))
                {
                    names = await ListConnectionsAsync(clientProvidedNamePrefix);
                }
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                throw new TimeoutException(
                    $"The management API listed {names.Count} connection(s) in vhost {Name} named '{clientProvidedNamePrefix}*' " +
                    $"after {Timeout.TotalSeconds} s; the test expected at least {atLeast}.");
            }
        }

        var closed = 0;
        foreach (var name in names)
        {
            var path = $"api/connections/{Uri.EscapeDataString(name)}";
            using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(path, UriKind.Relative));
            request.Headers.Add("X-Reason", "Closed by a test (BrokerVhost.CloseConnectionsAsync)");
            using var response = await RabbitMqBroker.Management.SendAsync(request);

            // Not found: it closed by itself since the listing.
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                await EnsureSuccessAsync(response, $"DELETE {path}");
                closed++;
            }
        }

        return closed;
    }

    /// <summary>
    /// The management API's names of this vhost's connections (matching the prefix, when there is one), but for the
    /// fixture's own inspector.
    /// </summary>
    private async Task<List<string>> ListConnectionsAsync(string? clientProvidedNamePrefix)
    {
        using var connections = await GetJsonAsync($"api/vhosts/{EscapedName}/connections?columns=name,user_provided_name");
        var names = new List<string>();
        foreach (var connection in connections.RootElement.EnumerateArray())
        {
            var providedName = connection.TryGetProperty("user_provided_name", out var provided)
                && provided.ValueKind == JsonValueKind.String
                ? provided.GetString()
                : null;
            if (providedName != InspectorName
                && (clientProvidedNamePrefix is null
                    || providedName?.StartsWith(clientProvidedNamePrefix, StringComparison.Ordinal) == true))
            {
                names.Add(connection.GetProperty("name").GetString()!);
            }
        }

        return names;
    }

    /// <summary>
    /// Stops the broker's application and starts it again (<c>rabbitmqctl stop_app</c>, <c>start_app</c>,
    /// <c>await_startup</c>): every connection drops, durable queues and their persistent messages stay. This touches
    /// every vhost, so only a test class in <see cref="BrokerRestartCollection"/> (run alone) may call it. Needs the
    /// tests to run on the broker's machine as a user that may run rabbitmqctl (root in CI).
    /// </summary>
    public async Task RestartBrokerAppAsync()
    {
        if (TestContext.Current.TestCollection?.TestCollectionClassName != typeof(BrokerRestartCollection).FullName)
        {
            throw new InvalidOperationException(
                "Restarting the broker drops every connection of every test class running at the time: put the test " +
                "class in [Collection(BrokerRestartCollection.Name)], which runs alone.");
        }

        using var timeout = new CancellationTokenSource(s_restartTimeout);
        await RabbitmqctlAsync(timeout.Token, "stop_app");
        await RabbitmqctlAsync(timeout.Token, "start_app");
        await RabbitmqctlAsync(timeout.Token, "await_startup", "--timeout", ((int)s_restartTimeout.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task RabbitmqctlAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var start = new ProcessStartInfo("rabbitmqctl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-q");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var command = $"rabbitmqctl {string.Join(' ', arguments)}";
        Process? process = null;
        try
        {
            process = Process.Start(start);
        }
        catch (Win32Exception exception)
        {
            RabbitMqBroker.Unavailable($"{command} could not run ({exception.Message}): restarting the broker needs the tests on its machine");
        }

        using (process)
        {
            if (process is null)
            {
                throw new InvalidOperationException($"{command} did not start.");
            }

            var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
            try
            {
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{command} did not finish within {s_restartTimeout.TotalSeconds} s.");
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException(
                    $"{command} exited with {process.ExitCode}: {(await error).Trim()} {(await output).Trim()}".TrimEnd());
            }
        }
    }

    /// <summary>
    /// The fixture's own connection for inspecting queues: not recovering, and replaced when it has closed (after a
    /// restart, say), so an inspection never waits on a recovery.
    /// </summary>
    private async Task<IConnection> InspectorAsync(CancellationToken cancellationToken)
    {
        await _inspectorLock.WaitAsync(cancellationToken);
        try
        {
            if (_inspector is { IsOpen: true } open)
            {
                return open;
            }

            if (_inspector is { } closed)
            {
                await closed.DisposeAsync();
            }

            var factory = new ConnectionFactory
            {
                Uri = Uri,
                AutomaticRecoveryEnabled = false,
                ClientProvidedName = InspectorName,
            };
            _inspector = await factory.CreateConnectionAsync(cancellationToken);
            return _inspector;
        }
        finally
        {
            _inspectorLock.Release();
        }
    }

    private static string AmqpUser()
    {
        var user = RabbitMqBroker.AmqpUri.UserInfo.Split(':', 2)[0];
        return user.Length > 0 ? Uri.UnescapeDataString(user) : "guest";
    }

    private static async Task SendAsync(HttpMethod method, string path, string json)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative))
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        using var response = await RabbitMqBroker.Management.SendAsync(request);
        await EnsureSuccessAsync(response, $"{method} {path}");
    }

    private static async Task<JsonDocument> GetJsonAsync(string path)
    {
        using var response = await RabbitMqBroker.Management.GetAsync(new Uri(path, UriKind.Relative));
        await EnsureSuccessAsync(response, $"GET {path}");
        await using var body = await response.Content.ReadAsStreamAsync();
        return await JsonDocument.ParseAsync(body);
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, string request)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync();
            throw new HttpRequestException(
                $"The RabbitMQ management API answered {request} with {(int)response.StatusCode} {response.ReasonPhrase}: {body}",
                inner: null,
                response.StatusCode);
        }
    }
}
