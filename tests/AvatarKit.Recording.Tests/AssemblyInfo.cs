// Real-time recordings share two cores with real ffmpeg encoders: running them one at a time keeps
// their timing honest (a starved test thread is not an idle room) and the whole run is no slower.
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly)]
