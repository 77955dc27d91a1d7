package idcard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestMaskName(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"one character", "李", "*"},
		{"two characters", "张三", "张*"},
		{"three characters", "张三丰", "张*丰"},
		{"four characters", "欧阳娜娜", "欧**娜"},
		{"latin", "JOHN SMITH", "J********H"},
		{"padding", " 张三丰 ", "张*丰"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskName(tt.in); got != tt.want {
				t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskNumber(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"18 digits", "430104199001011234", "4301**********1234"},
		{"X", "11010519491231002X", "1101**********002X"},
		{"15-digit old number", "430104900101123", "4301*******1123"},
		{"short", "12345", "*****"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskNumber(tt.in); got != tt.want {
				t.Errorf("MaskNumber(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskAddress(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"district", "湖南省长沙市岳麓区麓山南路1号", "湖南省长沙市岳麓区"},
		{"county", "湖南省长沙市宁乡县花明楼镇", "湖南省长沙市宁乡县"},
		{"municipality", "北京市朝阳区建国路88号", "北京市朝阳区"},
		{"autonomous region", "广西壮族自治区南宁市青秀区民族大道", "广西壮族自治区南宁市青秀区"},
		{"long autonomous region", "新疆维吾尔自治区乌鲁木齐市天山区", "新疆维吾尔自治区乌鲁木齐市天山区"},
		{"banner", "内蒙古自治区呼伦贝尔市陈巴尔虎旗某路", "内蒙古自治区呼伦贝尔市陈巴尔虎旗"},
		{"州 in a province name", "贵州省贵阳市南明区", "贵州省贵阳市南明区"},
		{"county-level city", "湖南省浏阳市集里街道某小区3栋", "湖南省浏阳市"},
		{"residential 小区 is not a district", "湖南省浏阳市大瑶镇花园小区", "湖南省浏阳市"},
		{"street before any district", "湖南省长沙市芙蓉路1号东区", "湖南省长沙市"},
		{"too long to be a district", "湖南省长沙市某某某某某某某某区", "湖南省长沙市"},
		{"no administrative prefix", "测试地址", "***"},
		{"empty", "", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskAddress(tt.in); got != tt.want {
				t.Errorf("MaskAddress(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestCardNeverPrintsClear formats a card every way a log line or a reply
// might and checks that the clear number, name, street and photo are absent.
func TestCardNeverPrintsClear(t *testing.T) {
	c := goodCard()
	c.Name = "欧阳娜娜"
	c.Photo = bytes.Repeat([]byte{0xC3}, PhotoLen)
	secrets := []string{c.Number, c.Number[:10], c.Number[4:14], "阳娜", "测试路", "1号", "c3c3c3", "C3C3C3", "195 195"}

	var logJSON, logText bytes.Buffer
	slog.New(slog.NewJSONHandler(&logJSON, nil)).Info("read", "card", *c, "ptr", c)
	slog.New(slog.NewTextHandler(&logText, nil)).Info("read", "card", *c, "ptr", c)
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	jsNested, err := json.Marshal(struct{ Cards []Card }{[]Card{*c}})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":          fmt.Sprintf("%v", c),
		"%v value":    fmt.Sprintf("%v", *c),
		"%+v":         fmt.Sprintf("%+v", c),
		"%+v value":   fmt.Sprintf("%+v", *c),
		"%#v":         fmt.Sprintf("%#v", *c),
		"%s":          fmt.Sprintf("%s", c),
		"%q":          fmt.Sprintf("%q", c),
		"%x":          fmt.Sprintf("%x", *c),
		"%X":          fmt.Sprintf("%X", c),
		"%d":          fmt.Sprintf("%d", *c),
		"Println":     fmt.Sprintln(c, *c),
		"String":      c.String(),
		"in a struct": fmt.Sprintf("%+v", struct{ C Card }{*c}),
		"in a slice":  fmt.Sprintf("%v", []*Card{c}),
		"in a map":    fmt.Sprintf("%v", map[string]Card{"k": *c}),
		"error wrap":  fmt.Errorf("kiosk: %v", c).Error(),
		"json":        string(js),
		"json nested": string(jsNested),
		"slog json":   logJSON.String(),
		"slog text":   logText.String(),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("%s output contains %q", name, s)
				}
			}
			if name != "%x" && name != "%X" && name != "%d" && !strings.Contains(out, "欧**娜") {
				t.Errorf("%s output %q lacks the masked name", name, out)
			}
		})
	}
	if got, want := c.String(), "欧**娜 0000**********002X"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	var m MaskedCard
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	want := MaskedCard{Name: "欧**娜", Sex: "女", Nation: "回", BirthYear: 1985, Address: "湖南省长沙市岳麓区",
		Number: "0000**********002X", Authority: "测试市公安局", ValidFrom: "2015-03-01", ValidTo: "2035-03-01", PhotoLen: PhotoLen}
	if m != want {
		t.Errorf("json.Marshal(card) = %+v, want %+v", m, want)
	}
	c.LongTerm, c.ValidTo = true, time.Time{}
	if got := c.Masked().ValidTo; got != "长期" {
		t.Errorf("Masked().ValidTo of a long-term card = %q, want 长期", got)
	}
}

func TestAge(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	tests := []struct {
		name  string
		birth time.Time
		now   time.Time
		loc   *time.Location
		want  int
	}{
		{"day before birthday", date(1990, 6, 15), date(2024, 6, 14), nil, 33},
		{"on birthday", date(1990, 6, 15), date(2024, 6, 15), nil, 34},
		{"leap day, common year, 28 Feb", date(2000, 2, 29), date(2023, 2, 28), nil, 22},
		{"leap day, common year, 1 Mar", date(2000, 2, 29), date(2023, 3, 1), nil, 23},
		{"UTC evening is next day in Beijing", date(2006, 1, 2), time.Date(2024, 1, 1, 20, 0, 0, 0, time.UTC), shanghai, 18},
		{"same instant in UTC", date(2006, 1, 2), time.Date(2024, 1, 1, 20, 0, 0, 0, time.UTC), time.UTC, 17},
		{"before birth", date(2030, 1, 1), date(2024, 1, 1), nil, -6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Card{Birth: tt.birth}
			if got := c.Age(tt.now, tt.loc); got != tt.want {
				t.Errorf("Age(%v, %v) = %d, want %d", tt.now, tt.loc, got, tt.want)
			}
		})
	}
}

func TestSexAndNation(t *testing.T) {
	sexes := map[Sex]string{SexMale: "男", SexFemale: "女", SexUnknown: "未知", SexUnstated: "未说明", 7: "Sex(7)"}
	for s, want := range sexes {
		if got := s.String(); got != want {
			t.Errorf("Sex(%d).String() = %q, want %q", byte(s), got, want)
		}
	}
	nationsWant := map[string]string{"01": "汉", "02": "蒙古", "36": "毛南", "56": "基诺", "97": "其他", "98": "外国血统"}
	for code, want := range nationsWant {
		if got, ok := NationName(code); !ok || got != want {
			t.Errorf("NationName(%s) = %q, %v; want %q", code, got, ok, want)
		}
	}
	if len(nations) != 58 {
		t.Errorf("nation table has %d codes, want 56 + 2", len(nations))
	}
	for _, code := range []string{"00", "57", "99", "1"} {
		if _, ok := NationName(code); ok {
			t.Errorf("NationName(%q) found a nation", code)
		}
	}
}
