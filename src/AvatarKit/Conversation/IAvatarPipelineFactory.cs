namespace AvatarKit;

/// <summary>Creates conversation pipelines from the services registered with <c>services.AddAvatarKit().AddPipeline()</c>; one pipeline per conversation.</summary>
public interface IAvatarPipelineFactory
{
    /// <summary>Creates a pipeline from the registered chat client, avatar service, speech-to-text, audio input and recorder.</summary>
    /// <param name="configure">Changes the builder before building (e.g. another avatar or no recording); may be null.</param>
    /// <returns>A new, not yet started pipeline.</returns>
    AvatarPipeline Create(Action<AvatarPipelineBuilder>? configure = null);
}
