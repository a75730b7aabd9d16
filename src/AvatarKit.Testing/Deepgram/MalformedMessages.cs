using System.Net.WebSockets;
using System.Text;

namespace AvatarKit.Testing.Deepgram;

/// <summary>Malformed and fuzzed server messages, deterministic for a given count.</summary>
internal static class MalformedMessages
{
    private const string Valid =
        """{"type":"Results","channel_index":[0,1],"duration":1.0,"start":0.0,"is_final":true,"speech_final":true,"from_finalize":false,"channel":{"alternatives":[{"transcript":"fuzz","confidence":0.9,"words":[{"word":"fuzz","start":0.1,"end":0.5,"confidence":0.9}]}]}}""";

    private static readonly string[] Fixed =
    [
        "not json at all",
        "{",
        "[]",
        "null",
        "42",
        """{"type":123}""",
        """{"type":"Results"}""",
        """{"type":"Results","channel":{"alternatives":"x"}}""",
        """{"type":"Results","is_final":"yes","start":"a","channel":{"alternatives":[{"transcript":5,"words":[{"word":1,"start":"x"}]}]}}""",
        """{"type":"Results","channel":{"alternatives":[{"transcript":"x","words":[null,3,{"start":-1,"end":1e400}]}]}}""",
        """{"type":"SpeechStarted","timestamp":"soon"}""",
        """{"type":"UtteranceEnd","last_word_end":null}""",
        """{"type":"Metadata","duration":{}}""",
        """{"type":"Whatever","x":1}""",
        new string('[', 500) + new string(']', 500),
    ];

    public static IEnumerable<ListenConnection.Outgoing> Create(int count)
    {
        var random = new Random(count);
        for (var i = 0; i < count; i++)
        {
            if (i < Fixed.Length)
            {
                yield return new ListenConnection.Outgoing(Encoding.UTF8.GetBytes(Fixed[i]), WebSocketMessageType.Text);
                continue;
            }

            switch (i % 4)
            {
                case 0:
                    // Random characters (valid UTF-8, as the WebSocket layer requires of text frames).
                    var chars = new char[random.Next(1, 200)];
                    for (var k = 0; k < chars.Length; k++)
                    {
                        chars[k] = (char)random.Next(0x20, 0xD7FF);
                    }

                    yield return new ListenConnection.Outgoing(Encoding.UTF8.GetBytes(chars), WebSocketMessageType.Text);
                    break;
                case 1:
                    var binary = new byte[random.Next(1, 64)];
                    random.NextBytes(binary);
                    yield return new ListenConnection.Outgoing(binary, WebSocketMessageType.Binary);
                    break;
                default:
                    // A valid Results message with a few characters replaced or the tail cut.
                    var valid = Valid.ToCharArray();
                    for (var k = 0; k < 3; k++)
                    {
                        valid[random.Next(valid.Length)] = "{}[]\":,x0 "[random.Next(10)];
                    }

                    var text = new string(valid, 0, random.Next(1, valid.Length + 1));
                    yield return new ListenConnection.Outgoing(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);
                    break;
            }
        }
    }
}
