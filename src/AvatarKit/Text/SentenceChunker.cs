using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace AvatarKit;

/// <summary>
/// Splits streamed text (LLM tokens) into sentences as soon as each one is complete, so a
/// speaker can start on the first sentence while the rest is still being written.
/// </summary>
/// <remarks>
/// <para>
/// A sentence ends at <c>. ! ? …</c> (or a run of them, followed by any closing quotes or
/// brackets) when whitespace and then a character that is not a lower-case letter follow; at
/// CJK terminators <c>。！？</c> with no whitespace needed; or at a blank line. It does not end
/// after a known abbreviation (<c>Dr.</c>, <c>e.g.</c>, <c>z.B.</c>, <c>т.е.</c>…), a single
/// capital initial, a list number at the start of a line (<c>1.</c>), inside a number (<c>3.14</c>), or when the would-be sentence has no letter
/// (<c>1.</c>). Over-long text without punctuation is split at the last space before
/// <see cref="MaxSentenceLength"/>.
/// </para>
/// <para>
/// Decisions depend only on the text, never on how it was chunked: feeding one character at a
/// time or the whole text at once gives the same sentences. Not thread-safe.
/// </para>
/// </remarks>
public sealed class SentenceChunker
{
    private static readonly SearchValues<char> Terminators = SearchValues.Create(".!?…。！？｡");
    private static readonly SearchValues<char> WideTerminators = SearchValues.Create("。！？｡");
    private static readonly SearchValues<char> Closers = SearchValues.Create("\"'”’»)]}」』）】›");

    private static readonly HashSet<string> Abbreviations = new(StringComparer.OrdinalIgnoreCase)
    {
        // English
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "approx", "no", "fig", "inc", "ltd", "co", "mt", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "a.m", "p.m",
        // German
        "z.b", "bzw", "usw", "ca", "nr", "u.a", "d.h", "evtl", "ggf", "hr", "fr", "vgl", "s.o", "s.u",
        // Russian
        "т.е", "т.к", "т.д", "т.п", "др", "пр", "г", "гг", "ул", "им", "стр", "см", "руб", "коп", "тыс", "млн", "млрд",
    };

    private char[] _buffer = new char[256];
    private int _length;
    private int _start;
    private int _scan;
    private readonly Queue<string> _ready = new();

    /// <summary>Initializes a new <see cref="SentenceChunker"/>.</summary>
    /// <param name="maxSentenceLength">Length after which text without a sentence end is split at a space; at least 20.</param>
    public SentenceChunker(int maxSentenceLength = 400)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSentenceLength, 20);
        MaxSentenceLength = maxSentenceLength;
    }

    /// <summary>Gets the length after which text without a sentence end is split at a space.</summary>
    public int MaxSentenceLength { get; }

    /// <summary>Adds streamed text; completed sentences become available through <see cref="TryTakeSentence"/>.</summary>
    /// <param name="text">The next chunk of text, any length.</param>
    public void Append(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return;
        }

        EnsureCapacity(_length + text.Length);
        text.CopyTo(_buffer.AsSpan(_length));
        _length += text.Length;
        Scan();
    }

    /// <summary>Takes the next completed sentence, trimmed, if there is one.</summary>
    /// <param name="sentence">The sentence.</param>
    /// <returns><see langword="true"/> when a sentence was taken.</returns>
    public bool TryTakeSentence([NotNullWhen(true)] out string? sentence) => _ready.TryDequeue(out sentence);

    /// <summary>Ends the stream: whatever text remains becomes the last sentence.</summary>
    /// <returns>The last sentence, trimmed, or <see langword="null"/> when only whitespace remained.</returns>
    public string? Complete()
    {
        var rest = _buffer.AsSpan(_start, _length - _start).Trim();
        var last = rest.IsEmpty ? null : rest.ToString();
        _start = _scan = _length = 0;
        return last;
    }

    /// <summary>Clears all text, for example when the answer was interrupted.</summary>
    public void Reset()
    {
        _start = _scan = _length = 0;
        _ready.Clear();
    }

    /// <summary>Splits a stream of text chunks into sentences, yielding each as soon as it is complete.</summary>
    /// <param name="chunks">The text chunks, e.g. streamed LLM tokens.</param>
    /// <param name="cancellationToken">Stops the enumeration.</param>
    /// <returns>The sentences, in order.</returns>
    public static async IAsyncEnumerable<string> SplitAsync(
        IAsyncEnumerable<string> chunks, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        var chunker = new SentenceChunker();
        await foreach (var chunk in chunks.WithCancellation(cancellationToken))
        {
            chunker.Append(chunk);
            while (chunker.TryTakeSentence(out var sentence))
            {
                yield return sentence;
            }
        }

        if (chunker.Complete() is { } last)
        {
            yield return last;
        }
    }

    /// <summary>Splits a complete text into sentences.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The sentences, in order.</returns>
    public static IReadOnlyList<string> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var chunker = new SentenceChunker();
        chunker.Append(text);
        var sentences = new List<string>();
        while (chunker.TryTakeSentence(out var sentence))
        {
            sentences.Add(sentence);
        }

        if (chunker.Complete() is { } last)
        {
            sentences.Add(last);
        }

        return sentences;
    }

    private void Scan()
    {
        while (_scan < _length)
        {
            var c = _buffer[_scan];
            var end = -1;
            if (Terminators.Contains(c))
            {
                var decision = DecideAtTerminator(_scan, out end, out var next);
                if (decision == Decision.NeedMoreText)
                {
                    return;
                }

                if (decision == Decision.Boundary)
                {
                    Emit(end, next);
                    continue;
                }

                _scan = end;
                continue;
            }

            if (c == '\n')
            {
                var next = _scan + 1;
                while (next < _length && _buffer[next] is ' ' or '\t' or '\r')
                {
                    next++;
                }

                if (next >= _length)
                {
                    return;
                }

                if (_buffer[next] == '\n' && HasLetter(_start, _scan))
                {
                    Emit(_scan, SkipWhitespace(next));
                    continue;
                }
            }

            _scan++;
            if (_scan - _start >= MaxSentenceLength)
            {
                SplitOverlong();
            }
        }
    }

    private Decision DecideAtTerminator(int position, out int end, out int next)
    {
        end = position;
        var wide = false;
        while (end < _length && Terminators.Contains(_buffer[end]))
        {
            wide |= WideTerminators.Contains(_buffer[end]);
            end++;
        }

        while (end < _length && Closers.Contains(_buffer[end]))
        {
            end++;
        }

        next = end;
        if (end >= _length)
        {
            return Decision.NeedMoreText;
        }

        if (wide)
        {
            next = SkipWhitespace(end);
            return HasLetter(_start, end) ? Decision.Boundary : Decision.NotBoundary;
        }

        if (!char.IsWhiteSpace(_buffer[end]))
        {
            return Decision.NotBoundary;
        }

        next = SkipWhitespace(end);
        if (next >= _length)
        {
            return Decision.NeedMoreText;
        }

        if (char.IsLower(_buffer[next]) || !HasLetter(_start, end))
        {
            return Decision.NotBoundary;
        }

        var singleDot = _buffer[position] == '.' && end - position == 1;
        return singleDot && (IsAbbreviationBefore(position) || IsListMarkerBefore(position)) ? Decision.NotBoundary : Decision.Boundary;
    }

    private bool IsAbbreviationBefore(int dot)
    {
        var wordStart = dot;
        while (wordStart > _start && (char.IsLetter(_buffer[wordStart - 1]) || _buffer[wordStart - 1] == '.'))
        {
            wordStart--;
        }

        var word = _buffer.AsSpan(wordStart, dot - wordStart);
        if (word.IsEmpty)
        {
            return false;
        }

        // A single capital letter is an initial ("J. R. R. Tolkien").
        if (word.Length == 1 && char.IsUpper(word[0]))
        {
            return true;
        }

        return Abbreviations.GetAlternateLookup<ReadOnlySpan<char>>().Contains(word);
    }

    // "1." at the start of a line numbers a list item; it does not end a sentence.
    private bool IsListMarkerBefore(int dot)
    {
        var digits = dot;
        while (digits > _start && char.IsAsciiDigit(_buffer[digits - 1]))
        {
            digits--;
        }

        return digits < dot && (digits == _start || _buffer[digits - 1] == '\n');
    }

    private void SplitOverlong()
    {
        for (var i = _scan - 1; i > _start + MaxSentenceLength / 2; i--)
        {
            if (char.IsWhiteSpace(_buffer[i]))
            {
                Emit(i, SkipWhitespace(i));
                return;
            }
        }

        Emit(_scan, _scan);
    }

    private void Emit(int end, int next)
    {
        var sentence = _buffer.AsSpan(_start, end - _start).Trim();
        if (!sentence.IsEmpty)
        {
            _ready.Enqueue(sentence.ToString());
        }

        _start = _scan = next;
        Compact();
    }

    private int SkipWhitespace(int position)
    {
        while (position < _length && char.IsWhiteSpace(_buffer[position]))
        {
            position++;
        }

        return position;
    }

    private bool HasLetter(int from, int to)
    {
        foreach (var c in _buffer.AsSpan(from, to - from))
        {
            if (char.IsLetter(c))
            {
                return true;
            }
        }

        return false;
    }

    private void Compact()
    {
        if (_start == 0)
        {
            return;
        }

        _buffer.AsSpan(_start, _length - _start).CopyTo(_buffer);
        _length -= _start;
        _scan -= _start;
        _start = 0;
    }

    private void EnsureCapacity(int capacity)
    {
        if (capacity > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(capacity, _buffer.Length * 2));
        }
    }

    private enum Decision
    {
        NotBoundary,
        Boundary,
        NeedMoreText,
    }
}
