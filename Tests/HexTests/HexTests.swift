import Hex
import XCTest

final class HexTests: XCTestCase {
    func testTwoLowerCaseDigitsPerByteMostSignificantFirst() {
        XCTAssertEqual([UInt8]().hexEncoded, "")
        XCTAssertEqual([0x00, 0x0f, 0xa0, 0xff].hexEncoded, "000fa0ff")
        let every = (0...255).map { UInt8($0) }
        XCTAssertEqual(every.hexEncoded, every.map { String(format: "%02x", $0) }.joined())
    }
}
