using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AvatarKit.Tests.DependencyInjection;

public sealed class AddAvatarKitTests
{
    [Fact]
    public void AddAvatarKit_registers_the_builder_once_and_returns_it()
    {
        var services = new ServiceCollection();

        var first = services.AddAvatarKit();
        var second = services.AddAvatarKit();

        Assert.Same(first, second);
        Assert.Same(services, first.Services);
        using var provider = services.BuildServiceProvider();
        Assert.Same(first, provider.GetRequiredService<AvatarKitBuilder>());
    }

    [Fact]
    public void Settings_bind_from_the_AvatarKit_section_and_code_wins()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AvatarKit:DefaultAvatarId"] = "from-config",
            ["AvatarKit:DefaultQuality"] = "Medium",
            ["OUTPUT_DIR"] = "recordings",
        }).Build());
        services.AddAvatarKit(o => o.DefaultQuality = AvatarQuality.Low);

        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<AvatarKitOptions>>().Value;

        Assert.Equal("from-config", options.DefaultAvatarId);
        Assert.Equal(AvatarQuality.Low, options.DefaultQuality);
        Assert.Equal("recordings", options.OutputDirectory);
    }

    [Fact]
    public void The_original_environment_names_fill_unset_settings()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["DEFAULT_AVATAR_ID"] = "Wayne_20240711",
            ["DEFAULT_QUALITY"] = "high",
        }).Build());
        services.AddAvatarKit();

        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<AvatarKitOptions>>().Value;

        Assert.Equal("Wayne_20240711", options.DefaultAvatarId);
        Assert.Equal(AvatarQuality.High, options.DefaultQuality);
        Assert.Equal("outputs", options.OutputDirectory);
    }

    [Fact]
    public void Validation_at_start_names_the_setting_that_is_wrong()
    {
        var services = new ServiceCollection();
        services.AddAvatarKit(o => o.OutputDirectory = " ");
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("OUTPUT_DIR", error.Message, StringComparison.Ordinal);
        Assert.Contains("AvatarKit:OutputDirectory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_quality_name_fails_at_start_with_the_allowed_values()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["DEFAULT_QUALITY"] = "ultra" }).Build());
        services.AddAvatarKit();
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("DEFAULT_QUALITY is 'ultra'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_provider_options_validator_reports_every_problem_with_its_type_name()
    {
        var services = new ServiceCollection();
        services.AddAvatarKit().AddOptions<SampleProviderOptions>(
            "Sample",
            fillFromEnvironment: (o, env) => o.ApiKey ??= env("SAMPLE_API_KEY_THAT_IS_NOT_SET"),
            validate: o => o.ApiKey is null ? ["ApiKey is missing; set AvatarKit:Sample:ApiKey or SAMPLE_API_KEY."] : []);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("SampleProviderOptions: ApiKey is missing; set AvatarKit:Sample:ApiKey or SAMPLE_API_KEY.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Provider_options_bind_from_their_own_section()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["AvatarKit:Sample:ApiKey"] = "k" }).Build());
        services.AddAvatarKit().AddOptions<SampleProviderOptions>("Sample", validate: o => o.ApiKey is null ? ["missing"] : []);
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IStartupValidator>().Validate();

        Assert.Equal("k", provider.GetRequiredService<IOptions<SampleProviderOptions>>().Value.ApiKey);
    }

    public sealed class SampleProviderOptions
    {
        public string? ApiKey { get; set; }
    }
}
