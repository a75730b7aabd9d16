using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AvatarKit.Harness.Doubles;

/// <summary>
/// A chat client that streams a fixed answer word by word on an exact schedule: word <c>i</c> is due
/// <see cref="TimeToFirstToken"/> + <c>i</c> / <see cref="TokensPerSecond"/> after the request. Deadlines
/// are absolute, so timer slack does not add up over an answer (unlike sleeping between words).
/// At zero latency it never awaits, so everything measured is the caller's own code.
/// </summary>
internal sealed class PacedChatClient(string answer) : IChatClient
{
    private readonly string[] _words = AnswerText.Words(answer);

    public TimeSpan TimeToFirstToken { get; init; }

    /// <summary>Gets the streaming speed in words per second; 0 or less streams without pauses.</summary>
    public double TokensPerSecond { get; init; }

    public string Answer { get; } = answer;

    /// <summary>Raised with the <see cref="Stopwatch"/> timestamp when a request starts streaming.</summary>
    public event Action<long>? RequestStarted;

    /// <summary>Raised with a word's index and the <see cref="Stopwatch"/> timestamp at which it is handed to the caller.</summary>
    public event Action<int, long>? WordSent;

    public int WordCount => _words.Length;

    /// <summary>Gets the time, from the request, at which word <paramref name="index"/> is due.</summary>
    /// <param name="index">The word's index, from 0.</param>
    /// <returns>The scheduled delay.</returns>
    public TimeSpan DueAfter(int index) =>
        TimeToFirstToken + (TokensPerSecond > 0 ? TimeSpan.FromSeconds(index / TokensPerSecond) : TimeSpan.Zero);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var start = Stopwatch.GetTimestamp();
        RequestStarted?.Invoke(start);
        for (var i = 0; i < _words.Length; i++)
        {
            var wait = DueAfter(i) - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            var update = new ChatResponseUpdate(ChatRole.Assistant, _words[i]);
            if (i == _words.Length - 1)
            {
                update.FinishReason = ChatFinishReason.Stop;
            }

            WordSent?.Invoke(i, Stopwatch.GetTimestamp());
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
