import Foundation
import Testing

/// No response tail lost: after an error answer the server half-closes and discards the rest of the upload
/// (no RST), and on SIGTERM it stays until a slow client has acknowledged the whole response. Driven by
/// `tests/handover/lingering.py`; see that file for each assertion.
@Suite struct LingeringCloseTests {
    @Test func anInterruptedUploadGetsItsWholeAnswerAndASlowDownloadSurvivesSIGTERM() throws {
        let result = try run("python3", [packageRoot + "/tests/handover/lingering.py", binaryPath], timeout: 300)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("slow download: 5,000,000 bytes intact"), "\(result.stdout)")
        print(result.stdout)
    }
}
