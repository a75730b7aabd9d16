using AvatarKit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace AvatarKit.Tests.Avatars;

public sealed class AvatarServiceBuilderTests
{
    [Fact]
    public async Task Layers_wrap_the_provider_in_the_order_they_were_added_the_first_outermost()
    {
        var calls = new List<string>();
        var service = new TestAvatarService()
            .AsBuilder()
            .Use(inner => new RecordingService(inner, "outer", calls))
            .Use(inner => new RecordingService(inner, "inner", calls))
            .Build();

        await service.ListAvatarsAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["outer", "inner"], calls);
        Assert.IsType<RecordingService>(service);
    }

    [Fact]
    public void A_layer_that_returns_null_is_refused_with_its_position()
    {
        var builder = new TestAvatarService().AsBuilder().Use(_ => null!);

        var error = Assert.Throws<InvalidOperationException>(() => builder.Build());

        Assert.Contains("index 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetService_finds_a_layer_and_falls_through_to_the_provider_for_its_metadata()
    {
        var provider = new TestAvatarService();
        var service = provider.AsBuilder().Use(inner => new RecordingService(inner, "layer", [])).Build();

        Assert.IsType<RecordingService>(service.GetService<RecordingService>());
        Assert.Same(provider, service.GetService<TestAvatarService>());
        Assert.Equal("test", service.GetService<AvatarMetadata>()?.ProviderName);
        Assert.Null(service.GetService<AvatarMetadata>("a key"));

        await using var session = await service.StartSessionAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("test-avatar", session.GetService<AvatarMetadata>()?.AvatarId);
    }

    [Fact]
    public async Task AddAvatarService_registers_the_built_service_with_layers_that_take_services_from_the_provider()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new Marker());
        Marker? seen = null;
        services.AddAvatarService(new TestAvatarService()).Use((inner, sp) =>
        {
            seen = sp.GetRequiredService<Marker>();
            return new RecordingService(inner, "layer", []);
        });

        await using var provider = services.BuildServiceProvider();
        var service = provider.GetRequiredService<IAvatarService>();

        Assert.IsType<RecordingService>(service);
        Assert.Same(provider.GetRequiredService<Marker>(), seen);
        Assert.Same(service, provider.GetRequiredService<IAvatarService>());
    }

    [Fact]
    public async Task UseLogging_logs_calls_at_debug_and_what_the_avatar_says_only_at_trace()
    {
        var collector = new FakeLogCollector();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(collector)).SetMinimumLevel(LogLevel.Debug));
        var service = new TestAvatarService().AsBuilder().UseLogging(loggerFactory).Build();

        await using (var session = await service.StartSessionAsync(cancellationToken: TestContext.Current.CancellationToken))
        {
            await session.SpeakAsync("My secret answer.", TestContext.Current.CancellationToken);
            await session.InterruptAsync(TestContext.Current.CancellationToken);
        }

        var messages = collector.GetSnapshot().Select(r => r.Message).ToList();
        Assert.Contains(messages, m => m.StartsWith("StartSessionAsync completed", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("SpeakAsync completed", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("InterruptAsync completed", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("-> Closed", StringComparison.Ordinal));
        Assert.DoesNotContain(messages, m => m.Contains("secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UseLogging_logs_a_refusal_as_an_error_and_rethrows_it()
    {
        var collector = new FakeLogCollector();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(collector)));
        var refusal = new AvatarApiException("Unknown avatar.");
        var provider = new TestAvatarService { StartSessionAsyncCallback = (_, _) => throw refusal };
        var service = provider.AsBuilder().UseLogging(loggerFactory).Build();

        var thrown = await Assert.ThrowsAsync<AvatarApiException>(() => service.StartSessionAsync(cancellationToken: TestContext.Current.CancellationToken));

        Assert.Same(refusal, thrown);
        var error = Assert.Single(collector.GetSnapshot(), r => r.Level == LogLevel.Error);
        Assert.Same(refusal, error.Exception);
    }

    [Fact]
    public void UseLogging_adds_no_layer_when_no_logger_factory_is_registered()
    {
        var provider = new TestAvatarService();

        var service = provider.AsBuilder().UseLogging().Build(new ServiceCollection().BuildServiceProvider());

        Assert.Same(provider, service);
    }

    private sealed class Marker;

    private sealed class RecordingService(IAvatarService inner, string name, List<string> calls) : DelegatingAvatarService(inner)
    {
        public override Task<IReadOnlyList<AvatarInfo>> ListAvatarsAsync(CancellationToken cancellationToken = default)
        {
            calls.Add(name);
            return base.ListAvatarsAsync(cancellationToken);
        }
    }
}
