using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Bus.Benchmarks;

/// <summary>
/// The broker the RabbitMQ scenarios run on: <c>BUS_RABBITMQ_URI</c> and <c>BUS_RABBITMQ_MANAGEMENT_URI</c> (by default
/// guest on 127.0.0.1, as <c>.ci/run</c> sets it up, the same variables as the broker tests). Every measured run gets a
/// virtual host of its own (<c>bus-bench-...</c>), made through the management API and deleted after the run with
/// everything in it, so no queue, exchange or leftover message of one run is seen by another.
/// </summary>
internal static class BenchBroker
{
    public const string VhostPrefix = "bus-bench-";

    public static Uri AmqpUri { get; } = Read("BUS_RABBITMQ_URI", "amqp://guest:guest@127.0.0.1:5672/");

    public static Uri ManagementUri { get; } = Read("BUS_RABBITMQ_MANAGEMENT_URI", "http://guest:guest@127.0.0.1:15672/");

    private static readonly HttpClient s_management = CreateManagementClient();

    /// <summary>The broker's version (management API), or null with the reason when it cannot be reached.</summary>
    public static async Task<(string? Version, string? Problem)> ProbeAsync()
    {
        try
        {
            using var overview = await GetJsonAsync("api/overview");
            return (overview.RootElement.GetProperty("rabbitmq_version").GetString(), null);
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            return (null, $"the management API at {Display(ManagementUri)} did not answer: {exception.Message}");
        }
    }

    /// <summary>Creates a fresh vhost, gives the AMQP user every permission on it, and returns its AMQP URI.</summary>
    public static async Task<Uri> CreateVhostAsync(string label)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{VhostPrefix}{label}-{Guid.NewGuid().ToString("N")[..8]}");
        var escaped = Uri.EscapeDataString(name);
        await SendAsync(HttpMethod.Put, $"api/vhosts/{escaped}", "{}");
        var user = Uri.EscapeDataString(AmqpUser());
        await SendAsync(HttpMethod.Put, $"api/permissions/{escaped}/{user}", """{"configure":".*","write":".*","read":".*"}""");
        return new UriBuilder(AmqpUri) { Path = "/" + escaped }.Uri;
    }

    /// <summary>Deletes a vhost made by <see cref="CreateVhostAsync"/>, with its queues, exchanges and messages.</summary>
    public static async Task DeleteVhostAsync(Uri vhost)
    {
        var escaped = Uri.EscapeDataString(VhostOf(vhost));
        using var response = await s_management.DeleteAsync(new Uri($"api/vhosts/{escaped}", UriKind.Relative));
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            response.EnsureSuccessStatusCode();
        }
    }

    /// <summary>Deletes the benchmark vhosts an interrupted run left behind.</summary>
    public static async Task<int> DeleteLeftoversAsync()
    {
        using var vhosts = await GetJsonAsync("api/vhosts?columns=name");
        var names = vhosts.RootElement.EnumerateArray()
            .Select(v => v.GetProperty("name").GetString()!)
            .Where(n => n.StartsWith(VhostPrefix, StringComparison.Ordinal))
            .ToList();
        foreach (var name in names)
        {
            using var response = await s_management.DeleteAsync(new Uri($"api/vhosts/{Uri.EscapeDataString(name)}", UriKind.Relative));
        }

        return names.Count;
    }

    /// <summary>Connections on the broker that are not the benchmark's: other clients sharing the broker disturb the figures.</summary>
    public static async Task<int> CountOtherConnectionsAsync()
    {
        using var connections = await GetJsonAsync("api/connections?columns=vhost");
        return connections.RootElement.EnumerateArray()
            .Count(c => c.TryGetProperty("vhost", out var vhost) && vhost.GetString() is { } name && !name.StartsWith(VhostPrefix, StringComparison.Ordinal));
    }

    /// <summary>The vhost's name in an AMQP URI (its path, unescaped).</summary>
    public static string VhostOf(Uri amqp)
    {
        var path = amqp.AbsolutePath.TrimStart('/');
        return path.Length == 0 ? "/" : Uri.UnescapeDataString(path);
    }

    public static string User(Uri amqp) => Uri.UnescapeDataString(amqp.UserInfo.Split(':')[0]);

    public static string Password(Uri amqp)
    {
        var parts = amqp.UserInfo.Split(':', 2);
        return parts.Length == 2 ? Uri.UnescapeDataString(parts[1]) : string.Empty;
    }

    /// <summary>A URI without its user info, for printing.</summary>
    public static string Display(Uri uri) => new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty }.Uri.ToString();

    private static string AmqpUser() => AmqpUri.UserInfo.Length == 0 ? "guest" : User(AmqpUri);

    private static async Task<JsonDocument> GetJsonAsync(string path)
    {
        using var response = await s_management.GetAsync(new Uri(path, UriKind.Relative));
        response.EnsureSuccessStatusCode();
        return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());
    }

    private static async Task SendAsync(HttpMethod method, string path, string json)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative))
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        using var response = await s_management.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static Uri Read(string variable, string fallback) =>
        new(Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : fallback);

    private static HttpClient CreateManagementClient()
    {
        var address = new UriBuilder(ManagementUri) { UserName = string.Empty, Password = string.Empty };
        if (!address.Path.EndsWith('/'))
        {
            address.Path += "/";
        }

        var client = new HttpClient { BaseAddress = address.Uri, Timeout = TimeSpan.FromSeconds(30) };
        var userInfo = Uri.UnescapeDataString(ManagementUri.UserInfo);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(userInfo.Length == 0 ? "guest:guest" : userInfo)));
        return client;
    }
}
