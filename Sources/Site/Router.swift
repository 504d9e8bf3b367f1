public import HTTP

/// Health and static assets only: the server before the site's pages existed. `SiteService` answers every
/// URL of the site (health, static files, article images, pages, feeds, search) and replaces this; it stays
/// until the App is switched over. Shared by every loop.
public final class Router: Responder {
    private let staticFiles: StaticFiles?
    private let isHealthy: @Sendable () -> Bool

    /// Routes `/healthz` to `isHealthy`, `/static/…` to `staticFiles`.
    public init(staticFiles: StaticFiles?, isHealthy: @escaping @Sendable () -> Bool) {
        self.staticFiles = staticFiles
        self.isHealthy = isHealthy
    }

    public func respond(to request: Request, context: RequestContext) -> Response {
        let path = request.head[request.pathRange]
        if path.elementsEqual("/healthz".utf8) {
            return isHealthy()
                ? .text(.ok, "ok\n", headers: [("Cache-Control", "no-store")])
                : .text(
                    .serviceUnavailable, "an event loop is not responding\n", headers: [("Cache-Control", "no-store")])
        }
        if let staticFiles, let response = staticFiles.respond(to: request, context: context) {
            return response
        }
        return .text(.notFound, "Not found.\n")
    }
}
