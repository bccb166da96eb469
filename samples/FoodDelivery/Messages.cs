namespace FoodDelivery;

public sealed record OrderPlaced(int OrderId, string Restaurant, string Customer, bool Vip);

public sealed record FoodReady(int OrderId, string Restaurant, bool Vip);

public sealed record CourierAssigned(int OrderId, string Courier);

public sealed record OrderDelivered(int OrderId, string Courier);
