using AvatarKit.Testing.Gemini;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.Reliability.Tests;

/// <summary>API keys never leak: every log line (Trace and up, every category) and every error text is scanned for a canary key.</summary>
public sealed class SecretTests
{
    private const string Canary = "AIzaCANARY0123456789abcdefghijKLMNOPQRS";

    [Fact]
    public async Task A_rejected_canary_key_appears_in_no_log_line_error_event_or_exception()
    {
        await using var run = await GeminiConversation.StartAsync(emulatorKey: "the-right-key", clientKey: Canary);
        var texts = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var result = await run.Pipeline.SendTextAsync("Hello?", TestContext.Current.CancellationToken);
            Assert.Equal(TurnOutcome.Failed, result.Outcome);
            texts.Add(result.Error!);
        }

        var direct = await Assert.ThrowsAnyAsync<Exception>(() =>
            run.Services.GetRequiredService<IChatClient>().GetResponseAsync("Hello?", cancellationToken: TestContext.Current.CancellationToken));
        texts.Add(direct.ToString());
        texts.AddRange(run.Conversation.Errors.Select(e => $"{e.Message} {e.Exception}"));

        Assert.Contains(texts, t => t.Contains("API key not valid", StringComparison.Ordinal));
        AssertNoCanary(run, texts);
    }

    [Fact]
    public async Task A_working_canary_key_appears_in_no_log_line_through_retries_and_broken_streams()
    {
        await using var run = await GeminiConversation.StartAsync(emulatorKey: Canary, clientKey: Canary);
        run.Emulator.EnqueueFault(GeminiEmulatorFault.RateLimited(TimeSpan.FromMilliseconds(10)));
        run.Emulator.EnqueueFault(GeminiEmulatorFault.SlowFirstToken(TimeSpan.Zero));
        run.Emulator.EnqueueFault(GeminiEmulatorFault.MalformedChunk());
        run.Emulator.EnqueueFault(GeminiEmulatorFault.ErrorEvent());
        run.Emulator.EnqueueFault(GeminiEmulatorFault.Error(403, "PERMISSION_DENIED", "Permission denied on resource project."));
        var texts = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var result = await run.Pipeline.SendTextAsync($"Question {i}?", TestContext.Current.CancellationToken);
            texts.Add($"{result.Error} {result.AnswerText}");
        }

        texts.AddRange(run.Conversation.Errors.Select(e => $"{e.Message} {e.Exception}"));
        Assert.Contains(run.Logs.Lines, l => l.Contains("Question 5?", StringComparison.Ordinal));
        AssertNoCanary(run, texts);
    }

    private static void AssertNoCanary(GeminiConversation run, List<string> texts)
    {
        Assert.NotEmpty(run.Logs.Lines);
        Assert.DoesNotContain(run.Logs.Lines, l => l.Contains(Canary, StringComparison.Ordinal));
        Assert.DoesNotContain(texts, t => t.Contains(Canary, StringComparison.Ordinal));
        Assert.DoesNotContain(run.Emulator.Requests, r => r.Query.Contains(Canary, StringComparison.Ordinal) || r.Path.Contains(Canary, StringComparison.Ordinal));
    }
}
