namespace DeadLetters;

/// <summary>An invoice to import, as it came from a partner's file: the amount is still text.</summary>
public sealed record ImportInvoice(string Number, string Customer, string Amount);
