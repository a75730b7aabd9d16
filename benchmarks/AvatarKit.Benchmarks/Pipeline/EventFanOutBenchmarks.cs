using BenchmarkDotNet.Attributes;

namespace AvatarKit.Benchmarks.Pipeline;

/// <summary>
/// Conversation event fan-out: publishing one event to every reader and each reader taking it
/// (the per-token <c>AnswerTextEvent</c> path), with 1 and 4 readers.
/// </summary>
[MemoryDiagnoser]
public class EventFanOutBenchmarks
{
    private const int Events = 1000;
    private readonly AnswerTextEvent _event = new("token ") { TurnId = 1 };
    private ConversationEventHub _hub = null!;
    private IAsyncEnumerator<ConversationEvent>[] _readers = [];

    [Params(1, 4)]
    public int Readers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _hub = new ConversationEventHub();
        _readers = [.. Enumerable.Range(0, Readers).Select(_ => _hub.Subscribe(CancellationToken.None).GetAsyncEnumerator())];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _hub.Complete();
        foreach (var reader in _readers)
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>One event published and read by every reader; reported per event.</summary>
    /// <returns>The number of events read.</returns>
    [Benchmark(OperationsPerInvoke = Events)]
    public int PublishAndRead()
    {
        var read = 0;
        for (var i = 0; i < Events; i++)
        {
            _hub.Publish(_event);
            foreach (var reader in _readers)
            {
                // Completes synchronously: the event is already in the reader's channel.
                var next = reader.MoveNextAsync();
                read += next.IsCompletedSuccessfully && next.Result ? 1 : 0;
            }
        }

        return read;
    }
}
