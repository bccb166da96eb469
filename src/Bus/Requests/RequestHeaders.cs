namespace Bus;

/// <summary>Headers of request messages.</summary>
public static class RequestHeaders
{
    /// <summary>
    /// Marks a message sent with <see cref="IPublisher.RequestAsync{TRequest, TResponse}(TRequest, CancellationToken)"/>:
    /// where the response goes (RabbitMQ's <c>reply_to</c>). In process it is always <see cref="InProcess"/>.
    /// </summary>
    public const string ReplyTo = "x-reply-to";

    /// <summary>The <see cref="ReplyTo"/> value of requests made in this process.</summary>
    public const string InProcess = "in-process";
}
