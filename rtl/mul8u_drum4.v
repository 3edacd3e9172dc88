// mul8u_drum4: unsigned 8x8-bit DRUM multiplier (Dynamic Range Unbiased Multiplier),
// k = 4.
// Function: each operand x >= 2^4 is replaced by its 4 most significant bits starting
// at the leading one, with the lowest kept bit forced to 1 and the dropped bits zero:
// x' = (((x >> s) | 1) << s), s = (position of the leading one) - 3; operands below
// 2^4 are used unchanged. O = A' * B' (a 4x4 exact multiply shifted back by sA + sB).
// Reference: S. Hashemi, R. I. Bahar and S. Reda, "DRUM: A dynamic range unbiased
// multiplier for approximate applications", IEEE/ACM ICCAD 2015, pp. 418-425.
// Hand-written behavioural netlist: leading-one detector as a priority chain.

module mul8u_drum4 (
  input  [7:0] A,
  input  [7:0] B,
  output [15:0] O
);
  wire [2:0] ta, tb;  // position of the leading one (0 for 0 and 1)
  wire wa, wb;        // operand needs more than 4 bits
  wire [2:0] sa, sb;  // bits dropped below the kept segment
  wire [3:0] ma, mb;  // kept 4-bit segments
  wire [7:0] m;       // segment product
  wire [3:0] s;       // total shift

  assign ta = A[7] ? 3'd7 : A[6] ? 3'd6 : A[5] ? 3'd5 : A[4] ? 3'd4 :
              A[3] ? 3'd3 : A[2] ? 3'd2 : A[1] ? 3'd1 : 3'd0;
  assign tb = B[7] ? 3'd7 : B[6] ? 3'd6 : B[5] ? 3'd5 : B[4] ? 3'd4 :
              B[3] ? 3'd3 : B[2] ? 3'd2 : B[1] ? 3'd1 : 3'd0;
  assign wa = A[7:4] != 4'd0;
  assign wb = B[7:4] != 4'd0;
  assign sa = wa ? ta - 3'd3 : 3'd0;
  assign sb = wb ? tb - 3'd3 : 3'd0;
  assign ma = wa ? ((A >> sa) | 8'd1) : A[3:0];
  assign mb = wb ? ((B >> sb) | 8'd1) : B[3:0];
  assign m = ma * mb;
  assign s = sa + sb;
  assign O = {8'd0, m} << s;
endmodule
