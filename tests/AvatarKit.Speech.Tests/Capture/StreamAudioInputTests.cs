using AvatarKit.Speech.Capture;

namespace AvatarKit.Speech.Tests.Capture;

public sealed class StreamAudioInputTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_wav_file_at_another_rate_is_delivered_as_20_ms_frames_in_the_requested_format()
    {
        var path = Path.Combine(Path.GetTempPath(), $"akspeech-{Guid.NewGuid():N}.wav");
        try
        {
            var samples = Enumerable.Range(0, 22_050).Select(i => (short)(8000 * Math.Sin(2 * Math.PI * 440 * i / 22_050))).ToArray();
            await using (var writer = new NAudio.Wave.WaveFileWriter(path, new NAudio.Wave.WaveFormat(22_050, 16, 1)))
            {
                writer.WriteSamples(samples, 0, samples.Length);
            }

            var frames = new List<AudioFrame>();
            await foreach (var frame in StreamAudioInput.FromWavFile(path, realTime: false).CaptureAsync(AudioFormat.Pcm16Mono16kHz, Token))
            {
                frames.Add(frame);
            }

            Assert.All(frames, f => Assert.Equal(AudioFormat.Pcm16Mono16kHz, f.Format));
            Assert.Equal(50, frames.Count);
            Assert.All(frames.SkipLast(1), f => Assert.Equal(TimeSpan.FromMilliseconds(20), f.Duration));
            Assert.Equal(1.0, frames.Sum(f => f.Duration.TotalSeconds), 2);
            Assert.InRange(frames[^1].Timestamp.TotalMilliseconds, 979, 981);
            Assert.InRange(Pcm16.GetRmsDbfs(frames[10].Samples), -15.6, -14.9);
            frames.ForEach(f => f.Dispose());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_raw_pcm_stream_is_read_in_its_declared_format()
    {
        var pcm = new byte[48_000 * 2 / 2];
        var frames = 0;

        await foreach (var frame in StreamAudioInput.FromStream(new MemoryStream(pcm), AudioFormat.Pcm16Mono48kHz).CaptureAsync(AudioFormat.Pcm16Mono16kHz, Token))
        {
            Assert.Equal(640, frame.Length);
            frames++;
            frame.Dispose();
        }

        Assert.Equal(25, frames);
    }

    [Fact]
    public async Task A_stream_input_can_be_captured_only_once()
    {
        var input = StreamAudioInput.FromStream(new MemoryStream(new byte[640]));
        await foreach (var frame in input.CaptureAsync(AudioFormat.Pcm16Mono16kHz, Token))
        {
            frame.Dispose();
        }

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var frame in input.CaptureAsync(AudioFormat.Pcm16Mono16kHz, Token))
            {
                frame.Dispose();
            }
        });
    }
}
