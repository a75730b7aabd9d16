using System.Net;

namespace AvatarKit.Llm.Tests.Gemini;

public sealed class GeminiModelsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task List_models_reads_every_page()
    {
        await using var fixture = await GeminiFixture.StartAsync(emulatorOptions: o => o.MaxPageSize = 3);

        var models = await fixture.Gemini.ListModelsAsync(Ct);

        Assert.Equal(fixture.Emulator.Options.Models, models.Select(m => m.Id));
        Assert.Equal(3, fixture.Emulator.Requests.Count);
        Assert.Equal("?pageSize=1000&pageToken=6", fixture.Emulator.Requests[2].Query);
        var flash = Assert.Single(models, m => m.Id == "gemini-2.5-flash");
        Assert.Contains("generateContent", flash.SupportedGenerationMethods);
        Assert.Equal(1048576, flash.InputTokenLimit);
        Assert.True(flash.Thinking);
    }

    [Fact]
    public async Task Get_model_finds_the_configured_model_and_404s_an_unknown_one()
    {
        await using var fixture = await GeminiFixture.StartAsync();

        var model = await fixture.Gemini.GetModelAsync(cancellationToken: Ct);
        var error = await Assert.ThrowsAsync<GeminiApiException>(() => fixture.Gemini.GetModelAsync("gemini-0-nope", Ct));

        Assert.Equal("gemini-2.5-flash", model.Id);
        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task List_models_with_a_bad_key_is_an_invalid_argument_error()
    {
        await using var fixture = await GeminiFixture.StartAsync(o => o.ApiKey = "bad");

        var error = await Assert.ThrowsAsync<GeminiApiException>(() => fixture.Gemini.ListModelsAsync(Ct));

        Assert.Equal("INVALID_ARGUMENT", error.ProviderCode);
    }
}
