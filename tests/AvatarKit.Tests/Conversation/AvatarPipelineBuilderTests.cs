using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AvatarKit.Tests.Conversation;

public sealed class AvatarPipelineBuilderTests
{
    [Fact]
    public void Builder_and_DI_produce_equivalent_pipelines()
    {
        var chat = new TestChatClient();
        var stt = new TestSpeechToTextClient();
        var input = new TestAudioInput();
        var avatar = new TestAvatarService(new TestAvatarSession());
        var recorder = new TestRecorder();

        var built = AvatarPipeline.CreateBuilder()
            .UseSpeechToText(stt, input).UseChatClient(chat).UseAvatar(avatar).UseRecording(recorder)
            .Configure(o => { o.SystemPrompt = "Be brief."; o.MaxHistoryMessages = 8; })
            .Build();

        var services = new ServiceCollection();
        services.AddSingleton<IChatClient>(chat).AddSingleton<ISpeechToTextClient>(stt).AddSingleton<IAudioInput>(input)
            .AddSingleton<IAvatarService>(avatar).AddSingleton<ISessionRecorder>(recorder);
        services.AddAvatarKit().AddPipeline(o => { o.SystemPrompt = "Be brief."; o.MaxHistoryMessages = 8; });
        using var provider = services.BuildServiceProvider();
        var resolved = provider.GetRequiredService<IAvatarPipelineFactory>().Create();

        foreach (var pipeline in new[] { built, resolved })
        {
            Assert.Same(chat, pipeline.ChatClient);
            Assert.Same(stt, pipeline.SpeechToTextClient);
            Assert.Same(input, pipeline.AudioInput);
            Assert.Same(avatar, pipeline.AvatarService);
            Assert.Same(recorder, pipeline.Recorder);
        }

        Assert.Equivalent(built.Options, resolved.Options, strict: true);
        Assert.Equal(built.History.SystemPrompt, resolved.History.SystemPrompt);
        Assert.Equal(8, resolved.History.MaxMessages);
        Assert.NotSame(resolved, provider.GetRequiredService<IAvatarPipelineFactory>().Create());
    }

    [Fact]
    public void DI_binds_the_pipeline_section_and_the_system_prompt_variable()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AvatarKit:Pipeline:MaxHistoryMessages"] = "6",
            ["AvatarKit:Pipeline:SilenceTimeout"] = "00:00:01.2",
            ["AVATARKIT_SYSTEM_PROMPT"] = "You are a pirate.",
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddAvatarKit().AddPipeline();
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<AvatarPipelineOptions>>().Value;

        Assert.Equal(6, options.MaxHistoryMessages);
        Assert.Equal(TimeSpan.FromSeconds(1.2), options.SilenceTimeout);
        Assert.Equal("You are a pirate.", options.SystemPrompt);
    }

    [Fact]
    public void Invalid_options_fail_with_a_message_per_setting()
    {
        var builder = AvatarPipeline.CreateBuilder().UseChatClient(new TestChatClient()).UseAvatar(new TestAvatarService(new TestAvatarSession()))
            .Configure(o => { o.MaxHistoryMessages = 1; o.SilenceTimeout = TimeSpan.FromMilliseconds(10); o.InputFormat = new AudioFormat(16_000, 2); });

        var ex = Assert.Throws<OptionsValidationException>(builder.Build);

        Assert.Equal(3, ex.Failures.Count());
        Assert.Contains(ex.Failures, f => f.Contains("MaxHistoryMessages is 1; use 2 to 1000", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("SilenceTimeout is 10 ms; use 100 ms to 10 s", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("InputFormat", StringComparison.Ordinal));
    }

    [Fact]
    public void DI_validates_the_options_at_start()
    {
        var services = new ServiceCollection();
        services.AddAvatarKit().AddPipeline(o => o.MaxSentenceLength = 5);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<AvatarPipelineOptions>>().Value);

        Assert.Contains("MaxSentenceLength is 5; use 20 to 4000", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Building_without_a_chat_client_or_an_avatar_says_what_to_add()
    {
        var noChat = Assert.Throws<InvalidOperationException>(() => AvatarPipeline.CreateBuilder().UseAvatar(new TestAvatarService(new TestAvatarSession())).Build());
        var noAvatar = Assert.Throws<InvalidOperationException>(() => AvatarPipeline.CreateBuilder().UseChatClient(new TestChatClient()).Build());

        Assert.Contains("UseChatClient", noChat.Message, StringComparison.Ordinal);
        Assert.Contains("UseAvatar", noAvatar.Message, StringComparison.Ordinal);
    }
}
