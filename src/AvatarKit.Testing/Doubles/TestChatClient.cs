using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AvatarKit.Testing;

/// <summary>
/// An <see cref="IChatClient"/> for tests, configured with delegates. By default it streams the
/// <see cref="Tokens"/> one by one (yielding between them, as a network stream would) and answers
/// non-streaming calls with their concatenation. Every request's messages are recorded.
/// </summary>
public sealed class TestChatClient : IChatClient
{
    private readonly Lock _lock = new();
    private readonly List<IReadOnlyList<ChatMessage>> _requests = [];

    /// <summary>Initializes a client that answers with <paramref name="tokens"/>.</summary>
    /// <param name="tokens">The answer's tokens; "Hello. How can I help?" in two tokens when none are given.</param>
    public TestChatClient(params string[] tokens)
    {
        Tokens = tokens is { Length: > 0 } ? tokens : ["Hello. ", "How can I help?"];
    }

    /// <summary>Gets or sets the tokens the default answer streams.</summary>
    public IReadOnlyList<string> Tokens { get; set; }

    /// <summary>Gets or sets what <see cref="GetStreamingResponseAsync"/> streams; when null, <see cref="Tokens"/>.</summary>
    public Func<IReadOnlyList<ChatMessage>, ChatOptions?, CancellationToken, IAsyncEnumerable<ChatResponseUpdate>>? GetStreamingResponseAsyncCallback { get; set; }

    /// <summary>Gets or sets what <see cref="GetResponseAsync"/> returns; when null, the streamed answer gathered into one response.</summary>
    public Func<IReadOnlyList<ChatMessage>, ChatOptions?, CancellationToken, Task<ChatResponse>>? GetResponseAsyncCallback { get; set; }

    /// <summary>Gets or sets what <see cref="GetService"/> answers before the defaults (the client itself, its <see cref="ChatClientMetadata"/>).</summary>
    public Func<Type, object?, object?>? GetServiceCallback { get; set; }

    /// <summary>Gets the messages of every request, in order.</summary>
    public IReadOnlyList<IReadOnlyList<ChatMessage>> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Streams <paramref name="tokens"/> as assistant updates, yielding between them; for <see cref="GetStreamingResponseAsyncCallback"/>.</summary>
    /// <param name="tokens">The tokens.</param>
    /// <param name="cancellationToken">Stops the stream.</param>
    /// <returns>The updates.</returns>
    public static async IAsyncEnumerable<ChatResponseUpdate> StreamAsync(IEnumerable<string> tokens, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        foreach (var token in tokens)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return new ChatResponseUpdate(ChatRole.Assistant, token);
        }
    }

    /// <inheritdoc />
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = Record(messages);
        return GetResponseAsyncCallback is { } callback
            ? callback(request, options, cancellationToken)
            : Stream(request, options, cancellationToken).ToChatResponseAsync(cancellationToken);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        Stream(Record(messages), options, cancellationToken);

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (GetServiceCallback?.Invoke(serviceType, serviceKey) is { } service)
        {
            return service;
        }

        return serviceKey is not null ? null
            : serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("test", defaultModelId: "test-model")
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private IAsyncEnumerable<ChatResponseUpdate> Stream(IReadOnlyList<ChatMessage> request, ChatOptions? options, CancellationToken cancellationToken) =>
        GetStreamingResponseAsyncCallback is { } callback ? callback(request, options, cancellationToken) : StreamAsync(Tokens, cancellationToken);

    private List<ChatMessage> Record(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var request = messages.ToList();
        lock (_lock)
        {
            _requests.Add(request);
        }

        return request;
    }
}
