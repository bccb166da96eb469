using System.Reflection;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Bus.RabbitMQ;

/// <summary>
/// The transport's two connections, one for publishing and one for consuming (a broker that blocks publishers must not
/// stop the acks that would relieve it), both recovering by themselves, and a signal publishers wait on while one is
/// down.
/// </summary>
internal sealed class RabbitMqConnections : IAsyncDisposable
{
    private readonly RabbitMqOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private TaskCompletionSource _publishUp = NewSignal();

    public RabbitMqConnections(RabbitMqOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
    }

    public IConnection Publish { get; private set; } = null!;

    public IConnection Consume { get; private set; } = null!;

    /// <summary>The broker's address without the password, for messages.</summary>
    public string Endpoint => $"{_options.Uri.Scheme}://{_options.Uri.Host}:{(_options.Uri.IsDefaultPort ? 5672 : _options.Uri.Port)}{_options.Uri.AbsolutePath}";

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        var name = _options.ConnectionName ?? Assembly.GetEntryAssembly()?.GetName().Name ?? "Bus";
        var factory = new ConnectionFactory
        {
            Uri = _options.Uri,
            AutomaticRecoveryEnabled = true,
            TopologyRecoveryEnabled = true,
            NetworkRecoveryInterval = _options.RecoveryInterval,
            ConsumerDispatchConcurrency = 1,
        };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.PublishTimeout);
            Publish = await factory.CreateConnectionAsync($"{name} (publish)", timeout.Token).ConfigureAwait(false);
            Consume = await factory.CreateConnectionAsync($"{name} (consume)", timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            await DisposeAsync().ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new TransportUnavailableException($"RabbitMQ at {Endpoint} cannot be reached: {exception.Message}", exception);
        }

        _publishUp.TrySetResult();
        Publish.ConnectionShutdownAsync += OnPublishDownAsync;
        Publish.RecoverySucceededAsync += OnPublishUpAsync;
        Consume.ConnectionShutdownAsync += OnConsumeDownAsync;
        Publish.ConnectionBlockedAsync += OnBlockedAsync;
    }

    /// <summary>Waits until the publishing connection is open, for at most <paramref name="timeout"/>; false when it stays down.</summary>
    public async Task<bool> WaitForPublishAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task up;
        lock (_lock)
        {
            up = _publishUp.Task;
        }

        if (up.IsCompleted && Publish.IsOpen)
        {
            return true;
        }

        try
        {
            await up.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return Publish.IsOpen;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in new[] { Consume, Publish })
        {
            if (connection is null)
            {
                continue;
            }

            try
            {
                await connection.CloseAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                Log.CloseFailed(_logger, exception);
            }

            connection.Dispose();
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Task OnPublishDownAsync(object sender, ShutdownEventArgs args)
    {
        if (args.Initiator == ShutdownInitiator.Application)
        {
            // Closed by the transport itself, at the stop.
            return Task.CompletedTask;
        }

        lock (_lock)
        {
            if (_publishUp.Task.IsCompleted)
            {
                _publishUp = NewSignal();
            }
        }

        Log.ConnectionLost(_logger, "publish", args.ReplyText);
        return Task.CompletedTask;
    }

    private Task OnPublishUpAsync(object sender, AsyncEventArgs args)
    {
        lock (_lock)
        {
            _publishUp.TrySetResult();
        }

        Log.ConnectionRecovered(_logger, "publish");
        return Task.CompletedTask;
    }

    private Task OnConsumeDownAsync(object sender, ShutdownEventArgs args)
    {
        if (args.Initiator == ShutdownInitiator.Application)
        {
            return Task.CompletedTask;
        }

        Log.ConnectionLost(_logger, "consume", args.ReplyText);
        return Task.CompletedTask;
    }

    private Task OnBlockedAsync(object sender, ConnectionBlockedEventArgs args)
    {
        Log.ConnectionBlocked(_logger, args.Reason);
        return Task.CompletedTask;
    }
}
