namespace AvatarKit;

/// <summary>
/// Builds an <see cref="IAvatarService"/> pipeline: the provider's service wrapped in middleware,
/// as <c>ChatClientBuilder</c> does for chat. The first <see cref="Use(Func{IAvatarService, IAvatarService})"/>
/// is the outermost layer: <c>builder.UseLogging().Use(inner => new MyLimits(inner)).Build()</c>
/// logs every call, then applies the limits, then reaches the provider.
/// </summary>
public sealed class AvatarServiceBuilder
{
    private readonly Func<IServiceProvider, IAvatarService> _innerServiceFactory;
    private readonly List<Func<IAvatarService, IServiceProvider, IAvatarService>> _factories = [];

    /// <summary>Initializes a new builder around <paramref name="innerService"/>.</summary>
    /// <param name="innerService">The provider's service.</param>
    public AvatarServiceBuilder(IAvatarService innerService)
    {
        ArgumentNullException.ThrowIfNull(innerService);
        _innerServiceFactory = _ => innerService;
    }

    /// <summary>Initializes a new builder around a service created from the service provider at build time.</summary>
    /// <param name="innerServiceFactory">Creates the provider's service.</param>
    public AvatarServiceBuilder(Func<IServiceProvider, IAvatarService> innerServiceFactory)
    {
        _innerServiceFactory = Throw.IfNull(innerServiceFactory);
    }

    /// <summary>Adds a middleware layer.</summary>
    /// <param name="serviceFactory">Wraps the service built so far.</param>
    /// <returns>This builder.</returns>
    public AvatarServiceBuilder Use(Func<IAvatarService, IAvatarService> serviceFactory)
    {
        ArgumentNullException.ThrowIfNull(serviceFactory);
        return Use((inner, _) => serviceFactory(inner));
    }

    /// <summary>Adds a middleware layer that takes services (a logger factory, options…) from the service provider.</summary>
    /// <param name="serviceFactory">Wraps the service built so far.</param>
    /// <returns>This builder.</returns>
    public AvatarServiceBuilder Use(Func<IAvatarService, IServiceProvider, IAvatarService> serviceFactory)
    {
        _factories.Add(Throw.IfNull(serviceFactory));
        return this;
    }

    /// <summary>Builds the service: the inner one wrapped in every layer, the first added outermost.</summary>
    /// <param name="services">Services for the layers and the inner factory; an empty provider when null.</param>
    /// <returns>The outermost service.</returns>
    /// <exception cref="InvalidOperationException">A layer returned null.</exception>
    public IAvatarService Build(IServiceProvider? services = null)
    {
        services ??= EmptyServiceProvider.Instance;
        var service = _innerServiceFactory(services);
        for (var i = _factories.Count - 1; i >= 0; i--)
        {
            service = _factories[i](service, services) ??
                throw new InvalidOperationException($"The {nameof(AvatarServiceBuilder)} layer at index {i} returned null; a layer must return an {nameof(IAvatarService)}.");
        }

        return service;
    }

    private sealed class EmptyServiceProvider : IServiceProvider
    {
        public static readonly EmptyServiceProvider Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
