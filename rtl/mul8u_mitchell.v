// mul8u_mitchell: unsigned 8x8-bit logarithmic multiplier (Mitchell's algorithm).
// Function: for x = 2^k * (1 + f), 0 <= f < 1, log2 x is approximated by k + f.
// With kA, fA and kB, fB the characteristics and mantissas of A and B:
//   O = 2^(kA+kB)   * (1 + fA + fB)   if fA + fB < 1,
//   O = 2^(kA+kB+1) * (fA + fB)       otherwise;  O = 0 if A = 0 or B = 0.
// Mantissas are kept to full precision (7 fraction bits), so the only error is the
// piecewise-linear logarithm and antilogarithm; O never exceeds A * B.
// Reference: J. N. Mitchell, "Computer multiplication and division using binary
// logarithms", IRE Trans. Electronic Computers EC-11(4):512-517, 1962.
// Hand-written behavioural netlist: leading-one detector as a priority chain,
// barrel shifts for normalization and antilogarithm.

module mul8u_mitchell (
  input  [7:0] A,
  input  [7:0] B,
  output [15:0] O
);
  wire [2:0] ka, kb;   // characteristics: position of the leading one
  wire [7:0] na, nb;   // operands normalized so that the leading one is bit 7
  wire [7:0] f;        // fA + fB, 7 fraction bits and the integer carry f[7]
  wire [3:0] e;        // characteristic of the product
  wire [7:0] m;        // antilogarithm mantissa 1.f[6:0]
  wire [15:0] p;

  assign ka = A[7] ? 3'd7 : A[6] ? 3'd6 : A[5] ? 3'd5 : A[4] ? 3'd4 :
              A[3] ? 3'd3 : A[2] ? 3'd2 : A[1] ? 3'd1 : 3'd0;
  assign kb = B[7] ? 3'd7 : B[6] ? 3'd6 : B[5] ? 3'd5 : B[4] ? 3'd4 :
              B[3] ? 3'd3 : B[2] ? 3'd2 : B[1] ? 3'd1 : 3'd0;
  assign na = A << (3'd7 - ka);
  assign nb = B << (3'd7 - kb);
  assign f = na[6:0] + nb[6:0];
  assign e = ka + kb + f[7];
  assign m = {1'b1, f[6:0]};
  assign p = (e >= 4'd7) ? ({8'd0, m} << (e - 4'd7)) : ({8'd0, m} >> (4'd7 - e));
  assign O = (A == 8'd0 || B == 8'd0) ? 16'd0 : p;
endmodule
