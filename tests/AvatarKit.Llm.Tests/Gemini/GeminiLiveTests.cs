using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.Llm.Tests.Gemini;

/// <summary>Against the real service; skipped unless GEMINI_API_KEY is set.</summary>
public sealed class GeminiLiveTests
{
    [Fact]
    public async Task Real_gemini_lists_models_and_streams_an_answer()
    {
        var key = Environment.GetEnvironmentVariable("GEMINI_API_KEY");
        Assert.SkipWhen(string.IsNullOrWhiteSpace(key), "GEMINI_API_KEY is not set; the live Gemini test needs a real key.");
        var ct = TestContext.Current.CancellationToken;
        var services = new ServiceCollection();
        services.AddAvatarKit().AddGemini(o => o.ApiKey = key);
        await using var provider = services.BuildServiceProvider();
        var gemini = provider.GetRequiredService<GeminiChatClient>();

        var model = await gemini.GetModelAsync(cancellationToken: ct);
        var updates = await provider.GetRequiredService<IChatClient>()
            .GetStreamingResponseAsync([new(ChatRole.System, "Answer in one short sentence."), new(ChatRole.User, "Name a colour of the sky.")], cancellationToken: ct)
            .ToListAsync(ct);

        Assert.Contains("generateContent", model.SupportedGenerationMethods);
        var response = updates.ToChatResponse();
        Assert.False(string.IsNullOrWhiteSpace(response.Text));
        Assert.NotNull(response.FinishReason);
        Assert.True(response.Usage?.TotalTokenCount > 0);
    }
}
