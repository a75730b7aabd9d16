using AvatarKit.Harness.Latency;
using AvatarKit.Harness.Load;

// Performance harness: one command per claim.
//   dotnet run -c Release --project benchmarks/AvatarKit.Harness -- latency [--turns N] [--ttft-ms 300] [--tokens-per-second 40] [--answer-tokens 80] [--avatar-start-ms 0] [--json]
//   dotnet run -c Release --project benchmarks/AvatarKit.Harness -- load --conversations N [--duration 60s] [--recording [--no-clips]] [--json]
const string Usage = """
    usage:
      latency [--turns 20] [--overhead-turns 200] [--ttft-ms 300] [--tokens-per-second 40] [--answer-tokens 80] [--avatar-start-ms 0] [--json]
      load --conversations 50 [--duration 60s] [--ttft-ms 300] [--tokens-per-second 40] [--answer-tokens 80] [--avatar-start-ms 0] [--speech-wps 20] [--recording [--no-clips]] [--json]
    """;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

try
{
    var options = AvatarKit.Harness.Arguments.Parse(args.AsSpan(1));
    switch (args[0])
    {
        case "latency":
            return await LatencyCommand.RunAsync(
                new LatencySettings
                {
                    Turns = options.Int("turns", 20),
                    OverheadTurns = options.Int("overhead-turns", 200),
                    TimeToFirstToken = TimeSpan.FromMilliseconds(options.Double("ttft-ms", 300)),
                    TokensPerSecond = options.Double("tokens-per-second", 40),
                    AnswerTokens = options.Int("answer-tokens", 80),
                    AvatarStart = TimeSpan.FromMilliseconds(options.Double("avatar-start-ms", 0)),
                    Json = options.Flag("json"),
                },
                Console.Out);
        case "load":
            return await LoadCommand.RunAsync(
                new LoadSettings
                {
                    Conversations = options.Int("conversations", 50),
                    Duration = options.Duration("duration", TimeSpan.FromSeconds(60)),
                    TimeToFirstToken = TimeSpan.FromMilliseconds(options.Double("ttft-ms", 300)),
                    TokensPerSecond = options.Double("tokens-per-second", 40),
                    AnswerTokens = options.Int("answer-tokens", 80),
                    AvatarStart = TimeSpan.FromMilliseconds(options.Double("avatar-start-ms", 0)),
                    SpeechWordsPerSecond = options.Double("speech-wps", 20),
                    Recording = options.Flag("recording"),
                    Clips = !options.Flag("no-clips"),
                    Json = options.Flag("json"),
                },
                Console.Out);
        default:
            Console.Error.WriteLine($"unknown command '{args[0]}'");
            Console.Error.WriteLine(Usage);
            return 2;
    }
}
catch (FormatException ex)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}
