namespace Bus;

/// <summary>The primitive values headers may carry, and how two of them compare in headers routing.</summary>
internal static class HeaderValues
{
    public static bool IsSupported(object? value) => value switch
    {
        null or string or bool or char or Guid or DateTime or DateTimeOffset or TimeSpan => true,
        _ => IsNumber(value),
    };

    /// <summary>
    /// Equal when <see cref="object.Equals(object?)"/> says so, or when both are numbers of equal value, so that a binding
    /// argument of <c>1</c> matches a header of <c>1L</c>.
    /// </summary>
    public static bool AreEqual(object? left, object? right)
    {
        if (Equals(left, right))
        {
            return true;
        }

        if (!IsNumber(left) || !IsNumber(right))
        {
            return false;
        }

        try
        {
            return Convert.ToDecimal(left, System.Globalization.CultureInfo.InvariantCulture)
                == Convert.ToDecimal(right, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (OverflowException)
        {
            return Convert.ToDouble(left, System.Globalization.CultureInfo.InvariantCulture)
                == Convert.ToDouble(right, System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    private static bool IsNumber(object? value) =>
        value is byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal;
}
