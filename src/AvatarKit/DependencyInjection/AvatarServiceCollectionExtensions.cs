using AvatarKit;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers an <see cref="IAvatarService"/> built through an <see cref="AvatarServiceBuilder"/>, as <c>AddChatClient</c> does for chat.</summary>
public static class AvatarServiceCollectionExtensions
{
    /// <summary>Registers <paramref name="innerService"/>, wrapped in the middleware the returned builder adds, as the <see cref="IAvatarService"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="innerService">The provider's service.</param>
    /// <param name="lifetime">The registration's lifetime.</param>
    /// <returns>The builder, for middleware: <c>.UseLogging()</c>, <c>.Use(…)</c>.</returns>
    public static AvatarServiceBuilder AddAvatarService(this IServiceCollection services, IAvatarService innerService, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(innerService);
        return services.AddAvatarService(_ => innerService, lifetime);
    }

    /// <summary>Registers the service <paramref name="innerServiceFactory"/> creates, wrapped in the middleware the returned builder adds, as the <see cref="IAvatarService"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="innerServiceFactory">Creates the provider's service.</param>
    /// <param name="lifetime">The registration's lifetime.</param>
    /// <returns>The builder, for middleware: <c>.UseLogging()</c>, <c>.Use(…)</c>.</returns>
    public static AvatarServiceBuilder AddAvatarService(this IServiceCollection services, Func<IServiceProvider, IAvatarService> innerServiceFactory, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new AvatarServiceBuilder(innerServiceFactory);
        services.Add(new ServiceDescriptor(typeof(IAvatarService), builder.Build, lifetime));
        return builder;
    }
}
