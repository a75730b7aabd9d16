namespace AvatarKit;

/// <summary>Helpers on <see cref="IAvatarService"/> and <see cref="IAvatarSession"/>.</summary>
public static class AvatarServiceExtensions
{
    /// <summary>Starts an <see cref="AvatarServiceBuilder"/> around <paramref name="innerService"/>.</summary>
    /// <param name="innerService">The provider's service.</param>
    /// <returns>The builder.</returns>
    public static AvatarServiceBuilder AsBuilder(this IAvatarService innerService) => new(innerService);

    /// <summary>Asks the service for a service of type <typeparamref name="TService"/>.</summary>
    /// <typeparam name="TService">The type of the service.</typeparam>
    /// <param name="service">The avatar service.</param>
    /// <param name="serviceKey">An optional key.</param>
    /// <returns>The service, or <see langword="null"/>.</returns>
    public static TService? GetService<TService>(this IAvatarService service, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        return service.GetService(typeof(TService), serviceKey) is TService found ? found : default;
    }

    /// <summary>Asks the session for a service of type <typeparamref name="TService"/>.</summary>
    /// <typeparam name="TService">The type of the service.</typeparam>
    /// <param name="session">The avatar session.</param>
    /// <param name="serviceKey">An optional key.</param>
    /// <returns>The service, or <see langword="null"/>.</returns>
    public static TService? GetService<TService>(this IAvatarSession session, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        return session.GetService(typeof(TService), serviceKey) is TService found ? found : default;
    }
}
