namespace AvatarKit.Tests.Conversation;

/// <summary>Collects a pipeline's events so tests can wait for one.</summary>
internal sealed class EventLog
{
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);
    private readonly List<ConversationEvent> _events = [];

    public EventLog(AvatarPipeline pipeline)
    {
        var events = pipeline.ReadEventsAsync();
        Completion = Task.Run(async () =>
        {
            await foreach (var e in events)
            {
                lock (_events)
                {
                    _events.Add(e);
                }

            }
        });
    }

    public Task Completion { get; }

    public IReadOnlyList<ConversationEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public IEnumerable<T> OfType<T>() => Events.OfType<T>();

    /// <summary>Waits until <paramref name="count"/> events of a type arrived; the timeout only guards against a hang.</summary>
    public async Task WaitForCountAsync<T>(int count)
        where T : ConversationEvent =>
        await WaitForAsync<T>(_ => Events.OfType<T>().Count() >= count);

    /// <summary>Waits for an event; the timeout only guards against a hang, it is not a latency assertion.</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool>? predicate = null)
        where T : ConversationEvent
    {
        var deadline = DateTime.UtcNow + HangGuard;
        while (true)
        {
            var found = Events.OfType<T>().FirstOrDefault(e => predicate?.Invoke(e) ?? true);
            if (found is not null)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No {typeof(T).Name} arrived; events so far: {string.Join(", ", Events.Select(e => e.GetType().Name))}");
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }
}
