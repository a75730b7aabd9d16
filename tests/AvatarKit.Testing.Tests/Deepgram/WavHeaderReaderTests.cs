using AvatarKit.Testing.Deepgram;
using NAudio.Wave;

namespace AvatarKit.Testing.Tests.Deepgram;

public sealed class WavHeaderReaderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void A_streamed_wav_header_gives_the_format_and_the_audio_after_it(int chunk)
    {
        var pcm = Enumerable.Range(0, 3200).Select(i => (byte)i).ToArray();
        var path = Path.GetTempFileName();
        byte[] wav;
        try
        {
            using (var writer = new WaveFileWriter(path, new WaveFormat(24_000, 16, 2)))
            {
                writer.Write(pcm);
            }

            wav = File.ReadAllBytes(path);
        }
        finally
        {
            File.Delete(path);
        }

        var reader = new WavHeaderReader();
        var audio = new List<byte>();
        AudioFormat format = default;
        var found = false;
        for (var offset = 0; offset < wav.Length; offset += chunk)
        {
            var piece = wav.AsSpan(offset, Math.Min(chunk, wav.Length - offset));
            if (found)
            {
                audio.AddRange(piece.ToArray());
                continue;
            }

            var status = reader.Read(piece, out format, out var rest);
            Assert.NotEqual(WavHeaderStatus.Invalid, status);
            if (status == WavHeaderStatus.Found)
            {
                found = true;
                audio.AddRange(rest.ToArray());
            }
        }

        Assert.True(found);
        Assert.Equal(new AudioFormat(24_000, 2), format);
        Assert.Equal(pcm, audio);
    }

    [Fact]
    public void Audio_that_is_not_pcm16_wav_is_invalid()
    {
        Assert.Equal(WavHeaderStatus.Invalid, new WavHeaderReader().Read(new byte[64], out _, out _));
        Assert.Equal(WavHeaderStatus.NeedMore, new WavHeaderReader().Read("RIFF"u8, out _, out _));
    }
}
