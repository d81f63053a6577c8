// Package keystone authenticates API requests with OpenStack Keystone tokens, as
// keystonemiddleware's auth_token does: the service's own token (Session), the validation
// of user and service tokens with a bounded in-memory cache (Validator), and the net/http
// middleware that strips client identity headers, answers 401 and 503 as the real
// middleware does and puts the caller's Identity on the request (Middleware). The same
// token authenticates the service's own calls to other services (Transport), whose
// endpoints it finds in the token's catalog (Catalog.Endpoint).
package keystone
