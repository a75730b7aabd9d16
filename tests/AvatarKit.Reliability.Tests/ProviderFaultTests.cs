using AvatarKit.Testing;
using AvatarKit.Testing.Gemini;
using AvatarKit.Testing.LiveAvatar;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.Reliability.Tests;

/// <summary>
/// Whole conversations over the LiveAvatar emulator (FULL mode, in-process room) and the Gemini
/// emulator, both over real HTTP with the packages' own retry policies, while a fifth of the calls fail.
/// </summary>
public sealed class ProviderFaultTests
{
    [Fact]
    public async Task Twenty_percent_of_avatar_and_LLM_calls_failing_fail_no_conversation_no_turn_and_leak_no_session()
    {
        var ct = TestContext.Current.CancellationToken;
        var rooms = new InProcessRoomServer();
        await using var avatars = await LiveAvatarEmulator.StartAsync(
            new InProcessRoomHost(rooms),
            new LiveAvatarEmulatorOptions
            {
                SpeechLatency = TimeSpan.FromMilliseconds(20),
                Avatar = new EmulatedAvatarOptions { BabbleCharactersPerSecond = 2000, MinimumUtterance = TimeSpan.FromMilliseconds(50), FramesPerSecond = 5 },
            },
            ct);
        await using var gemini = await GeminiEmulator.StartAsync(new GeminiEmulatorOptions { TimeToFirstToken = TimeSpan.Zero, TokensPerSecond = 0 }, ct);
        var collection = new ServiceCollection().AddLogging().AddSingleton<IRealtimeRoomConnector>(rooms);
        var kit = collection.AddAvatarKit().AddLiveAvatar(o =>
        {
            o.ApiKey = avatars.ApiKey;
            o.BaseUrl = avatars.BaseUrl;
            o.AvatarId = LiveAvatarEmulatorOptions.PublicAvatarId;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
            o.StopSessionsOnProcessExit = false;
        });
        kit.AddGemini(o =>
        {
            o.ApiKey = gemini.ApiKey;
            o.BaseUrl = gemini.BaseUrl;
            o.Model = "gemini-2.5-flash";
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
        });
        await using var services = collection.BuildServiceProvider();

        // LLM: one call in five fails (429 or 503). Avatar: of the 3 HTTP calls per conversation
        // (token, start, stop), 3 of 15 fail over the 5 conversations. Not /v1/sessions/start: the
        // HeyGen client does not retry it (a POST that creates a session), so a 5xx there fails the start.
        for (var i = 0; i < 100; i++)
        {
            gemini.EnqueueFault(i % 5 != 2 ? GeminiEmulatorFault.SlowFirstToken(TimeSpan.Zero)
                : i % 2 == 0 ? GeminiEmulatorFault.RateLimited(TimeSpan.FromMilliseconds(20)) : GeminiEmulatorFault.Unavailable());
        }

        var outcomes = new List<TurnOutcome>();
        for (var c = 0; c < 5; c++)
        {
            switch (c)
            {
                case 1:
                    avatars.Faults.Fail("/v1/sessions/token", 429);
                    break;
                case 2:
                    avatars.Faults.Fail("/v1/sessions/token", 503);
                    break;
                case 3:
                    avatars.Faults.Fail("/v1/sessions/stop", 500);
                    break;
            }

            await using var pipeline = AvatarPipeline.CreateBuilder()
                .UseChatClient(services.GetRequiredService<IChatClient>())
                .UseAvatar(services.GetRequiredService<IAvatarService>())
                .Build();
            await pipeline.StartAsync(ct);
            for (var t = 0; t < 3; t++)
            {
                var result = await pipeline.SendTextAsync($"Conversation {c}, question {t}?", ct).WaitAsync(TimeSpan.FromSeconds(30), ct);
                outcomes.Add(result.Outcome);
            }

            await pipeline.StopAsync(cancellationToken: ct);
        }

        Assert.Equal(15, outcomes.Count);
        Assert.All(outcomes, o => Assert.Equal(TurnOutcome.Completed, o));
        Assert.Equal(0, avatars.OpenSessionCount);
    }
}
