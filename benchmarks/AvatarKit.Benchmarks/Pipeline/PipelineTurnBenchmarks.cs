using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;

namespace AvatarKit.Benchmarks.Pipeline;

/// <summary>
/// One text turn through a started <see cref="AvatarPipeline"/> whose chat client and avatar take no
/// time at all, so the figure is the pipeline's own cost per turn: queueing, history, streaming
/// tokens through the sentence chunker, the sentence channel, speak calls, speaking events, metrics,
/// and one event reader (as the CLI has).
/// </summary>
[MemoryDiagnoser]
public class PipelineTurnBenchmarks
{
    private AvatarPipeline _pipeline = null!;
    private Task _reader = Task.CompletedTask;

    /// <summary>Gets or sets the answer length in tokens (words): one sentence, or a typical 80-word answer of 7 sentences.</summary>
    [Params(8, 80)]
    public int AnswerTokens { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var sentence = "The avatar answers every question with a short clear sentence. ".Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var tokens = Enumerable.Range(0, AnswerTokens).Select(i => sentence[i % sentence.Length] + " ").ToArray();
        tokens[^1] = tokens[^1].TrimEnd() + ". ";
        _pipeline = AvatarPipeline.CreateBuilder()
            .UseChatClient(new InstantChatClient(tokens))
            .UseAvatarSession(new InstantAvatarSession())
            .Build();
        var events = _pipeline.ReadEventsAsync();
        _reader = Task.Run(async () =>
        {
            await foreach (var e in events)
            {
                GC.KeepAlive(e);
            }
        });
        _pipeline.StartAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pipeline.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _reader.GetAwaiter().GetResult();
    }

    [Benchmark]
    public Task<ConversationTurnResult> TextTurn() => _pipeline.SendTextAsync("What is the weather like today?");

    /// <summary>Streams a fixed answer without ever waiting.</summary>
    private sealed class InstantChatClient(string[] tokens) : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.CompletedTask.ConfigureAwait(false);
            foreach (var token in tokens)
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, token);
            }
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    /// <summary>Says each text at once: speaking starts and ends inside the speak call.</summary>
    private sealed class InstantAvatarSession : IAvatarSession
    {
        public event EventHandler<AvatarSessionStateChangedEventArgs>? StateChanged;

        public event EventHandler<AvatarSpeechEventArgs>? SpeakingStarted;

        public event EventHandler<AvatarSpeechEventArgs>? SpeakingEnded;

        public string SessionId => "instant";

        public AvatarSessionState State => AvatarSessionState.Ready;

        public IRealtimeRoom? Room => null;

        public string AvatarIdentity => "instant";

        public Task SpeakAsync(string text, CancellationToken cancellationToken = default)
        {
            SpeakingStarted?.Invoke(this, new AvatarSpeechEventArgs("u", text, default));
            SpeakingEnded?.Invoke(this, new AvatarSpeechEventArgs("u", text, default));
            return Task.CompletedTask;
        }

        public Task SpeakAsync(IAsyncEnumerable<string> textChunks, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task InterruptAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public ValueTask DisposeAsync()
        {
            StateChanged?.Invoke(this, new AvatarSessionStateChangedEventArgs(AvatarSessionState.Ready, AvatarSessionState.Closed));
            return ValueTask.CompletedTask;
        }
    }
}
