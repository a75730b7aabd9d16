using System.Collections.Concurrent;
using AvatarKit.Testing.Gemini;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace AvatarKit.Llm.Tests.Gemini;

public sealed class GeminiRegistrationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Missing_api_key_fails_validation_naming_the_environment_variable()
    {
        var services = new ServiceCollection();
        services.AddAvatarKit().AddGemini(o => o.ApiKey = null);
        using var provider = services.BuildServiceProvider();

        // The key may be in this machine's environment; validation runs only when it is absent.
        Assert.SkipWhen(Environment.GetEnvironmentVariable("GEMINI_API_KEY") is { Length: > 0 }, "GEMINI_API_KEY is set in the environment.");
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IChatClient>());
        Assert.Contains("GEMINI_API_KEY", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_settings_are_all_reported()
    {
        var services = new ServiceCollection();
        services.AddAvatarKit().AddGemini(o =>
        {
            o.ApiKey = "k";
            o.Model = " ";
            o.ApiVersion = "v2";
            o.ThinkingBudget = 0;
            o.ThinkingLevel = "LOW";
        });
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<GeminiOptions>>().Value);

        Assert.Equal(3, error.Failures.Count());
    }

    [Fact]
    public void Settings_bind_from_configuration_under_AvatarKit_Gemini()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AvatarKit:Gemini:ApiKey"] = "from-config",
            ["AvatarKit:Gemini:Model"] = "gemini-3.8-flash",
            ["AvatarKit:Gemini:BaseUrl"] = "http://127.0.0.1:1234",
            ["AvatarKit:Gemini:ThinkingBudget"] = "0",
        }).Build());
        services.AddAvatarKit().AddGemini();
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<GeminiOptions>>().Value;

        Assert.Equal("from-config", options.ApiKey);
        Assert.Equal("gemini-3.8-flash", options.Model);
        Assert.Equal(new Uri("http://127.0.0.1:1234"), options.BaseUrl);
        Assert.Equal(0, options.ThinkingBudget);
        var metadata = provider.GetRequiredService<IChatClient>().GetService<ChatClientMetadata>();
        Assert.Equal("gcp.gemini", metadata!.ProviderName);
        Assert.Equal("gemini-3.8-flash", metadata.DefaultModelId);
    }

    [Fact]
    public async Task Middleware_pipeline_logs_caches_and_keeps_the_key_out_of_the_logs()
    {
        var logs = new FakeLogCollector();
        var cache = new DictionaryCache();
        var emulator = await GeminiEmulator.StartAsync(new GeminiEmulatorOptions { TimeToFirstToken = TimeSpan.Zero, TokensPerSecond = 0 }, Ct);
        await using var _ = emulator;
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(logs)));
        services.AddAvatarKit()
            .AddGemini(o =>
            {
                o.ApiKey = emulator.ApiKey;
                o.BaseUrl = emulator.BaseUrl;
                o.Model = "gemini-2.5-flash";
            })
            .UseLogging()
            .UseOpenTelemetry()
            .UseDistributedCache(cache)
            .UseFunctionInvocation();
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IChatClient>();

        var first = await client.GetResponseAsync("Hello there", cancellationToken: Ct);
        var second = await client.GetResponseAsync("Hello there", cancellationToken: Ct);

        Assert.Equal(first.Text, second.Text);
        Assert.Single(emulator.Requests);
        Assert.NotEmpty(cache.Entries);
        Assert.Contains(logs.GetSnapshot(), r => r.Category == typeof(GeminiChatClient).FullName);
        Assert.Contains(logs.GetSnapshot(), r => r.Category!.Contains("LoggingChatClient", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Message.Contains(emulator.ApiKey, StringComparison.Ordinal));
    }

    private sealed class DictionaryCache : IDistributedCache
    {
        public ConcurrentDictionary<string, byte[]> Entries { get; } = new();

        public byte[]? Get(string key) => Entries.GetValueOrDefault(key);

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Task.FromResult(Get(key));

        public void Refresh(string key)
        {
        }

        public Task RefreshAsync(string key, CancellationToken token = default) => Task.CompletedTask;

        public void Remove(string key) => Entries.TryRemove(key, out var _);

        public Task RemoveAsync(string key, CancellationToken token = default)
        {
            Remove(key);
            return Task.CompletedTask;
        }

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => Entries[key] = value;

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        {
            Set(key, value, options);
            return Task.CompletedTask;
        }
    }
}
