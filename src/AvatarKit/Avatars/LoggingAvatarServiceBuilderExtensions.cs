using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AvatarKit;

/// <summary>Adds <see cref="LoggingAvatarService"/> to an <see cref="AvatarServiceBuilder"/>.</summary>
public static class LoggingAvatarServiceBuilderExtensions
{
    /// <summary>Logs every call of the service and its sessions (see <see cref="LoggingAvatarService"/>).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="loggerFactory">Where to log; the service provider's <see cref="ILoggerFactory"/> when null. Nothing is added when there is none.</param>
    /// <returns>The builder.</returns>
    public static AvatarServiceBuilder UseLogging(this AvatarServiceBuilder builder, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((inner, services) =>
        {
            loggerFactory ??= services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
            return loggerFactory == NullLoggerFactory.Instance
                ? inner
                : new LoggingAvatarService(inner, loggerFactory.CreateLogger<LoggingAvatarService>());
        });
    }
}
