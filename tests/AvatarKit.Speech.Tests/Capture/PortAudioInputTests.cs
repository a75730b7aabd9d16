using AvatarKit.Speech.Capture;

namespace AvatarKit.Speech.Tests.Capture;

public sealed class PortAudioInputTests
{
    [Fact]
    public async Task The_default_input_delivers_20_ms_frames_in_the_requested_format()
    {
        Assert.SkipUnless(PortAudioInput.IsAvailable, "libportaudio is not installed (apt-get install libportaudio2)");
        var missing = await VirtualMicrophone.MissingPrerequisiteAsync();
        Assert.SkipWhen(missing is not null, $"PortAudio's ALSA default device needs PulseAudio: {missing}");
        Assert.NotEmpty(PortAudioInput.ListDevices());
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        var frames = 0;

        await foreach (var frame in new PortAudioInput().CaptureAsync(AudioFormat.Pcm16Mono16kHz, deadline.Token))
        {
            Assert.Equal(AudioFormat.Pcm16Mono16kHz, frame.Format);
            Assert.Equal(TimeSpan.FromMilliseconds(20), frame.Duration);
            frame.Dispose();
            if (++frames == 10)
            {
                break;
            }
        }

        Assert.Equal(10, frames);
    }
}
