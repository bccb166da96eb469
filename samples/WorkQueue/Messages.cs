namespace WorkQueue;

/// <summary>A task: render the thumbnail of an image; bigger images take longer.</summary>
public sealed record RenderThumbnail(int ImageId, int Megapixels);
