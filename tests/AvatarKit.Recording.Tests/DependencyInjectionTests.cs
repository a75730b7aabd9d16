using AvatarKit.Recording.Encoding;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AvatarKit.Recording.Tests;

/// <summary><c>AddRecording</c> and the live encoder's command line.</summary>
public sealed class DependencyInjectionTests
{
    [Fact]
    public void AddRecording_registers_the_ffmpeg_recorder_with_the_output_directory_from_OUTPUT_DIR()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection([new("OUTPUT_DIR", "recordings-here")]).Build());
        services.AddAvatarKit().AddRecording(o => o.AudioLayout = RecordingAudioLayout.SeparateTracks);
        using var provider = services.BuildServiceProvider();

        Assert.IsType<FfmpegSessionRecorder>(provider.GetRequiredService<ISessionRecorder>());
        var options = provider.GetRequiredService<IOptions<RecordingOptions>>().Value;
        Assert.Equal("recordings-here", options.OutputDirectory);
        Assert.Equal(RecordingAudioLayout.SeparateTracks, options.AudioLayout);
    }

    [Fact]
    public void AddRecording_reads_its_section_and_keeps_an_explicit_output_directory()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(
        [
            new("OUTPUT_DIR", "ignored"),
            new("AvatarKit:Recording:OutputDirectory", "from-section"),
            new("AvatarKit:Recording:Preset", "ultrafast"),
            new("AvatarKit:Recording:ClipPreRoll", "00:00:01"),
        ]).Build());
        services.AddAvatarKit().AddRecording();
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<RecordingOptions>>().Value;
        Assert.Equal(("from-section", "ultrafast", TimeSpan.FromSeconds(1)), (options.OutputDirectory, options.Preset, options.ClipPreRoll));
    }

    [Fact]
    public void AddRecording_validates_the_options_naming_each_bad_setting()
    {
        var services = new ServiceCollection();
        services.AddAvatarKit(o => o.OutputDirectory = "out").AddRecording(o =>
        {
            o.Crf = 99;
            o.AudioBitrateKbps = 1;
            o.ClipPostRoll = TimeSpan.FromMinutes(1);
        });
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RecordingOptions>>().Value);
        Assert.Contains(error.Failures, f => f.Contains("Crf is 99", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("AudioBitrateKbps is 1", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("ClipPostRoll", StringComparison.Ordinal));
    }

    [Fact]
    public void The_live_encoder_writes_crash_safe_fragmented_mp4_with_one_second_keyframes_to_stdout()
    {
        var options = new RecordingOptions { OutputDirectory = "out", FrameRate = 30, AudioLayout = RecordingAudioLayout.SeparateTracks };
        var arguments = string.Join(' ', new EncoderSettings("ffmpeg", options, ["unix:/a", "unix:/b"]).BuildArguments());

        Assert.Contains("-f rawvideo -pix_fmt yuv420p -s 1280x720 -r 30", arguments, StringComparison.Ordinal);
        Assert.Contains("-i pipe:0", arguments, StringComparison.Ordinal);
        Assert.Contains("-f s16le -ar 48000 -ac 1 -thread_queue_size 512 -i unix:/a", arguments, StringComparison.Ordinal);
        Assert.Contains("-map 0:v -map 1:a -map 2:a", arguments, StringComparison.Ordinal);
        Assert.Contains("-c:v libx264 -preset veryfast -tune zerolatency -crf 23 -g 30 -keyint_min 30 -sc_threshold 0", arguments, StringComparison.Ordinal);
        Assert.Contains("-maxrate 2500k -bufsize 5000k", arguments, StringComparison.Ordinal);
        Assert.Contains("-disposition:a:1 0", arguments, StringComparison.Ordinal);
        Assert.EndsWith("-movflags +frag_keyframe+empty_moov+default_base_moof -frag_duration 500000 -flush_packets 1 -f mp4 pipe:1", arguments, StringComparison.Ordinal);
    }
}
