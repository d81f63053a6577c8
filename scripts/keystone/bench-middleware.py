"""Time the real keystonemiddleware (auth_token) per request with a cached token, in process,
as internal/keystone's BenchmarkMiddlewareCached times ingot's middleware: the middleware in
front of a WSGI app that does nothing, called directly (no HTTP), alternating call by call
with the bare app so that the machine's load hits both alike.

Usage: /usr/bin/python3 bench-middleware.py KEYSTONE_URL SERVICE_PASSWORD TOKEN [N]
The service user is ingot on project service (scripts/keystone/bootstrap.sh), configured as
scripts/placement/start.sh configures Placement's [keystone_authtoken]. Prints one line in
go test -bench format, which bench/authreport reads:
  BenchmarkKeystonemiddlewareCached N <median(middleware+app) - median(app)> ns/op ...
"""
import io
import statistics
import sys
import time

from keystonemiddleware import auth_token


def app(environ, start_response):
    start_response('200 OK', [('Content-Length', '0')])
    return [b'']


def main():
    ks, password, token = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 20000
    conf = {
        'www_authenticate_uri': ks, 'auth_type': 'password', 'auth_url': ks,
        'username': 'ingot', 'password': password, 'project_name': 'service',
        'user_domain_name': 'Default', 'project_domain_name': 'Default',
        'service_token_roles_required': 'true', 'service_type': 'placement',
        'log_name': 'bench',
    }
    wrapped = auth_token.AuthProtocol(app, conf)
    base = {
        'REQUEST_METHOD': 'GET', 'PATH_INFO': '/resource_providers', 'QUERY_STRING': '',
        'SERVER_NAME': '127.0.0.1', 'SERVER_PORT': '8778', 'SERVER_PROTOCOL': 'HTTP/1.1',
        'SCRIPT_NAME': '', 'wsgi.url_scheme': 'http', 'wsgi.version': (1, 0),
        'HTTP_HOST': '127.0.0.1:8778', 'HTTP_X_AUTH_TOKEN': token,
        'HTTP_OPENSTACK_API_VERSION': 'placement 1.39', 'HTTP_X_ROLES': 'admin',
    }
    status = []

    def start_response(s, headers, exc_info=None):
        status.append(s)

    def call(handler):
        env = dict(base)
        env['wsgi.input'] = io.BytesIO()
        env['wsgi.errors'] = sys.stderr
        del status[:]
        start = time.perf_counter_ns()
        for _ in handler(env, start_response):
            pass
        took = time.perf_counter_ns() - start
        if not status or not status[0].startswith('200'):
            sys.exit('request answered %s' % status)
        return took

    for _ in range(50):  # the first call validates the token; the rest warm up
        call(wrapped)
        call(app)
    times = {'wrapped': [], 'app': []}
    for i in range(n):
        order = ('wrapped', 'app') if i % 2 == 0 else ('app', 'wrapped')
        for name in order:
            times[name].append(call(wrapped if name == 'wrapped' else app))
    w, a = statistics.median(times['wrapped']), statistics.median(times['app'])
    print('BenchmarkKeystonemiddlewareCached %d %.0f ns/op %.0f wrapped-ns/op %.0f app-ns/op' % (n, w - a, w, a))


if __name__ == '__main__':
    main()
