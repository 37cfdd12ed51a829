package store

// ResourceType returns the FC error-code stem of the resource ("Service",
// "Function", "Trigger", "Module", "StatefulAsyncInvocation",
// "AsyncConfig"), so the HTTP layer can build codes such
// as ServiceNotFound through an interface without importing this package.
func (e *ResourceError) ResourceType() string { return e.Resource.String() }
