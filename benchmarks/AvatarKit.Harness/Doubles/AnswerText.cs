using System.Text;
using System.Text.RegularExpressions;

namespace AvatarKit.Harness.Doubles;

/// <summary>Builds spoken-style answers of an exact number of words (one word = one streamed token).</summary>
internal static partial class AnswerText
{
    // Sentence lengths of a typical spoken answer: a short opener, then longer sentences.
    private static readonly int[] SentenceLengths = [10, 14, 12, 16, 11, 17, 9, 13];

    private static readonly string[] Vocabulary =
    [
        "the", "avatar", "answers", "every", "question", "with", "a", "short", "and", "clear", "sentence", "that",
        "sounds", "natural", "when", "spoken", "aloud", "to", "people", "who", "listen", "carefully", "while", "they",
        "wait", "for", "more", "details", "about", "weather", "travel", "plans", "food", "music", "history", "science",
    ];

    /// <summary>Creates an answer of <paramref name="words"/> words in sentences of varying length.</summary>
    /// <param name="words">The number of words.</param>
    /// <returns>The answer.</returns>
    public static string Create(int words)
    {
        var text = new StringBuilder();
        var inSentence = 0;
        var sentence = 0;
        for (var i = 0; i < words; i++)
        {
            var word = Vocabulary[(i * 7 + sentence) % Vocabulary.Length];
            text.Append(inSentence == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : word);
            inSentence++;
            var end = inSentence == SentenceLengths[sentence % SentenceLengths.Length] || i == words - 1;
            text.Append(end ? ". " : " ");
            if (end)
            {
                inSentence = 0;
                sentence++;
            }
        }

        return text.ToString();
    }

    /// <summary>Gets the number of words of the first sentence of an answer made by <see cref="Create"/>.</summary>
    /// <param name="words">The answer's length in words.</param>
    /// <returns>The first sentence's length in words.</returns>
    public static int FirstSentenceWords(int words) => Math.Min(words, SentenceLengths[0]);

    /// <summary>Splits text into words, each keeping its trailing space (as LLM tokens do).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The words.</returns>
    public static string[] Words(string text) => [.. WordRegex().Matches(text).Select(m => m.Value)];

    [GeneratedRegex(@"\S+\s*")]
    private static partial Regex WordRegex();
}
