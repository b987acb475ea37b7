using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;

namespace HomeServer.Grains.PushRules;

/// <summary>
/// Glob-style matching (appendices: <c>*</c> any run of characters, <c>?</c> one character), case-insensitive. A
/// pattern without wildcards is compared without a regular expression, which is the common case (user names,
/// display names, keywords).
/// </summary>
public sealed class Glob
{
    private const int MaxCached = 10_000;
    private static readonly ConcurrentDictionary<string, Glob> Cache = new(StringComparer.Ordinal);

    private readonly string _literal;
    private readonly Regex? _whole;
    private readonly Regex? _word;

    private Glob(string pattern)
    {
        _literal = pattern;
        if (pattern.IndexOfAny(['*', '?']) < 0) return;
        var body = new StringBuilder();
        foreach (var c in pattern)
        {
            body.Append(c switch
            {
                '*' => ".*?",
                '?' => ".",
                _ => Regex.Escape(c.ToString()),
            });
        }
        const RegexOptions options = RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline;
        var timeout = TimeSpan.FromMilliseconds(50);
        _whole = new Regex($"^{body}$", options, timeout);
        _word = new Regex($@"(?<![\w]){body}(?![\w])", options, timeout);
    }

    public static Glob Of(string pattern)
    {
        if (Cache.TryGetValue(pattern, out var glob)) return glob;
        glob = new Glob(pattern);
        if (Cache.Count < MaxCached) Cache.TryAdd(pattern, glob);
        return glob;
    }

    /// <summary>Whether the pattern matches the whole value.</summary>
    public bool MatchesWhole(string value)
    {
        if (_whole is null) return string.Equals(value, _literal, StringComparison.OrdinalIgnoreCase);
        try
        {
            return _whole.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    /// <summary>Whether the pattern matches a part of the value that starts and ends at word boundaries.</summary>
    public bool MatchesWord(string value)
    {
        if (_word is null) return ContainsWord(value, _literal);
        try
        {
            return _word.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    /// <summary>Whether <paramref name="word"/> occurs in <paramref name="text"/>, ignoring case, with no letter or digit right before or after it.</summary>
    public static bool ContainsWord(string text, string word)
    {
        if (word.Length == 0) return false;
        for (var start = 0; start <= text.Length - word.Length;)
        {
            var at = text.IndexOf(word, start, StringComparison.OrdinalIgnoreCase);
            if (at < 0) return false;
            var end = at + word.Length;
            var boundaryBefore = at == 0 || !IsWordChar(text[at - 1]) || !IsWordChar(word[0]);
            var boundaryAfter = end == text.Length || !IsWordChar(text[end]) || !IsWordChar(word[^1]);
            if (boundaryBefore && boundaryAfter) return true;
            start = at + 1;
        }
        return false;
    }

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';
}
