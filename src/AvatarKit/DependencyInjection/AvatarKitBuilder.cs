using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AvatarKit;

/// <summary>
/// Returned by <c>services.AddAvatarKit()</c>; provider packages extend it with their own
/// <c>Add…()</c> methods (<c>.AddLiveAvatar()</c>, <c>.AddDeepgram()</c>, <c>.AddGemini()</c>…).
/// </summary>
public sealed class AvatarKitBuilder
{
    /// <summary>The configuration section every AvatarKit setting lives under.</summary>
    public const string ConfigurationSectionName = "AvatarKit";

    /// <summary>Initializes a new <see cref="AvatarKitBuilder"/>.</summary>
    /// <param name="services">The service collection to register into.</param>
    public AvatarKitBuilder(IServiceCollection services)
    {
        Services = Throw.IfNull(services);
    }

    /// <summary>Gets the service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Registers a provider's options: bound from <c>AvatarKit:&lt;sectionName&gt;</c> when an
    /// <see cref="IConfiguration"/> is registered, then <paramref name="configure"/>, then
    /// <paramref name="fillFromEnvironment"/> for what is still unset, validated at start by
    /// <paramref name="validate"/>.
    /// </summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="sectionName">The section under <c>AvatarKit</c>, or empty for the root section.</param>
    /// <param name="configure">Settings from code; may be null.</param>
    /// <param name="fillFromEnvironment">
    /// Fills unset values from environment names (e.g. <c>DEEPGRAM_API_KEY</c>); receives a lookup that
    /// reads the configuration first and the process environment second.
    /// </param>
    /// <param name="validate">Returns one message per problem, each naming the setting and how to set it.</param>
    /// <returns>The options builder, for further configuration.</returns>
    public OptionsBuilder<TOptions> AddOptions<TOptions>(
        string sectionName,
        Action<TOptions>? configure = null,
        Action<TOptions, Func<string, string?>>? fillFromEnvironment = null,
        Func<TOptions, IEnumerable<string>>? validate = null)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(sectionName);
        var builder = Services.AddOptions<TOptions>()
            .Configure<IServiceProvider>((options, services) =>
            {
                var configuration = services.GetService<IConfiguration>();
                if (configuration is not null)
                {
                    var path = sectionName.Length == 0 ? ConfigurationSectionName : $"{ConfigurationSectionName}:{sectionName}";
                    configuration.GetSection(path).Bind(options);
                }

                configure?.Invoke(options);
                fillFromEnvironment?.Invoke(options, name => configuration?[name] is { Length: > 0 } value ? value : Environment.GetEnvironmentVariable(name));
            });

        if (validate is not null)
        {
            Services.AddSingleton<IValidateOptions<TOptions>>(new DelegatingOptionsValidator<TOptions>(typeof(TOptions).Name, validate));
        }

        return builder.ValidateOnStart();
    }

    private sealed class DelegatingOptionsValidator<TOptions>(string name, Func<TOptions, IEnumerable<string>> validate) : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? optionsName, TOptions options)
        {
            var failures = validate(options).ToList();
            return failures.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail(failures.Select(f => $"{name}: {f}"));
        }
    }
}
